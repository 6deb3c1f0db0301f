// Bearer-token authentication and the role check. Each route declares the permission it needs
// in `config.permission`; the matrix of which role holds which permission is domain/access.ts.
// A route that declares none cannot be registered, so nothing is left open by omission.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { PERMISSIONS, roleHolds, type Caller, type Permission, type TokenRegistry } from '../domain/access.js'
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
}

const unauthorized = (detail: string) => new AppError(401, 'UNAUTHORIZED', 'Unauthorized', detail, {}, { 'www-authenticate': 'Bearer realm="enom-ssl-service"' })

function bearer (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) return undefined
  const match = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header)
  return match?.[1]
}

async function authPlugin (app: FastifyInstance, options: AuthOptions) {
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
  })

  app.addHook('onRequest', async (request) => {
    const permission = request.routeOptions.config.permission
    // Unknown routes (404) carry no permission; they answer the same with or without a token.
    if (permission === undefined || permission === 'public') return
    const token = bearer(request)
    if (!token) throw unauthorized('send "Authorization: Bearer <token>"')
    const caller = options.tokens.identify(token)
    if (!caller) throw unauthorized('the bearer token is not valid')
    request.caller = caller
    if (!roleHolds(caller.role, permission)) {
      throw new AppError(403, 'FORBIDDEN', 'Forbidden', `role ${caller.role} may not ${permission}`)
    }
  })
}

export default fp(authPlugin, { name: 'auth' })
