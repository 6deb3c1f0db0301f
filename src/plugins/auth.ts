// Bearer-token authentication and the role check. Each route declares the permission it needs
// in `config.permission`; the matrix of which role holds which permission is domain/access.ts.
// A route that declares none cannot be registered, so nothing is left open by omission.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { PERMISSIONS, roleHolds, TokenRegistry, type Caller, type Permission } from '../domain/access.js'
import { AppError } from '../domain/errors.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: Permission
  }
  interface FastifyRequest {
    caller?: Caller
  }
  interface FastifyInstance {
    /** Every route with the permission it needs: the role matrix as the running service applies it. */
    routePermissions: RoutePermission[]
  }
}

export interface RoutePermission {
  method: string
  url: string
  permission: Permission
}

export interface AuthOptions {
  tokens: TokenRegistry
  /** A scraper's token: it may read /metrics and nothing else. */
  metricsToken?: string
}

const unauthorized = (detail: string) => new AppError(401, 'UNAUTHORIZED', 'Unauthorized', detail, {}, { 'www-authenticate': 'Bearer realm="enom-ssl-service"' })

function bearer (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) return undefined
  const match = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header)
  return match?.[1]
}

const identified = new WeakMap<FastifyRequest, Caller | null>()

/** The caller the request's bearer token names, looked up once per request (the rate limiter asks first). */
export function callerOf (request: FastifyRequest, tokens: TokenRegistry): Caller | undefined {
  let caller = identified.get(request)
  if (caller === undefined) {
    const token = bearer(request)
    caller = (token ? tokens.identify(token) : undefined) ?? null
    identified.set(request, caller)
  }
  return caller ?? undefined
}

async function authPlugin (app: FastifyInstance, options: AuthOptions) {
  const scraper = options.metricsToken ? TokenRegistry.parse(`metrics-scraper:ops:${options.metricsToken}`) : undefined
  const catalogue: RoutePermission[] = []
  app.decorate('routePermissions', catalogue)
  app.addHook('onRoute', (route) => {
    const permission = (route.config as { permission?: Permission } | undefined)?.permission
    // Swagger UI's own static routes are public documentation.
    if (!permission && (route.url === '/docs' || route.url.startsWith('/docs/'))) {
      route.config = { ...(route.config ?? {}), permission: 'public' }
      return
    }
    if (!permission || !(permission in PERMISSIONS)) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no permission (config.permission)`)
    }
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') catalogue.push({ method, url: route.url, permission })
    }
    // A route-level hook, added after the rate limiter's: unauthenticated floods are limited per
    // address before a token is even checked.
    if (permission !== 'public') route.onRequest = [...(route.onRequest ? [route.onRequest].flat() : []), authenticatorFor(permission)]
  })

  // Fail closed: a route that somehow escaped the hook above (registered before this plugin)
  // still refuses anyone without a caller.
  // (Callback style: no promise per request on the routes that pass.)
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.is404 || request.caller || request.routeOptions.config.permission === 'public') return done()
    done(unauthorized('send "Authorization: Bearer <token>"'))
  })

  /**
   * The route-level hook of a route that needs `permission` (read once, when the route is added;
   * callback style, as the hooks above: no promise per request).
   */
  function authenticatorFor (permission: Permission) {
    return function authenticate (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
      const token = bearer(request)
      if (!token) return done(unauthorized('send "Authorization: Bearer <token>"'))
      const caller = callerOf(request, options.tokens) ?? (permission === 'metrics.read' ? scraper?.identify(token) : undefined)
      if (!caller) return done(unauthorized('the bearer token is not valid'))
      request.caller = caller
      if (!roleHolds(caller.role, permission)) return done(new AppError(403, 'FORBIDDEN', 'Forbidden', `role ${caller.role} may not ${permission}`))
      done()
    }
  }
}

export default fp(authPlugin, { name: 'auth' })
