// JSON calls to the service and to the simulators' control API (set-up and checks, not load).
import { request } from 'undici'

export interface JsonResponse<T = any> {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: T
}

export async function call<T = any> (base: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string,
  options: { token?: string, body?: unknown, headers?: Record<string, string> } = {}): Promise<JsonResponse<T>> {
  const res = await request(`${base}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) })
  })
  const text = await res.body.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: res.statusCode, headers: res.headers, text, json: json as T }
}

/** Like call(), but anything other than `expected` is an error naming the response. */
export async function expectStatus<T = any> (expected: number, base: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string,
  options: { token?: string, body?: unknown, headers?: Record<string, string> } = {}): Promise<T> {
  const res = await call<T>(base, method, path, options)
  if (res.status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${res.status}: ${res.text.slice(0, 500)}`)
  return res.json
}
