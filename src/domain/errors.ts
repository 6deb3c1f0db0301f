// Errors the domain raises on purpose. Each carries an HTTP status, a stable machine code and a
// human title; the error plugin turns them into application/problem+json. Messages are written
// for the caller and must never hold a secret (passwords, tokens, eNom URLs with credentials).

export interface FieldError {
  /** Where the problem is, e.g. `body.name` or `query.limit`. */
  field: string
  message: string
}

export interface ProblemExtras {
  errors?: FieldError[]
  [key: string]: unknown
}

export class AppError extends Error {
  override name = 'AppError'
  constructor (
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extras: ProblemExtras = {},
    readonly headers: Record<string, string> = {}
  ) {
    super(detail ?? title)
  }
}

export const badRequest = (code: string, detail: string, errors?: FieldError[]) =>
  new AppError(400, code, 'Bad request', detail, errors ? { errors } : {})

export const validationFailed = (errors: FieldError[]) =>
  new AppError(400, 'VALIDATION_FAILED', 'Request validation failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors })

export const notFound = (what: string, id: string) =>
  new AppError(404, 'NOT_FOUND', 'Not found', `${what} ${id} does not exist`)

export const conflict = (code: string, detail: string, extras: ProblemExtras = {}) =>
  new AppError(409, code, 'Conflict', detail, extras)

export const unprocessable = (code: string, title: string, detail: string, extras: ProblemExtras = {}) =>
  new AppError(422, code, title, detail, extras)

export const preconditionFailed = (detail: string) =>
  new AppError(412, 'PRECONDITION_FAILED', 'Precondition failed', detail)

export const preconditionRequired = (detail: string) =>
  new AppError(428, 'PRECONDITION_REQUIRED', 'Precondition required', detail)

export const serviceUnavailable = (code: string, detail: string, retryAfterSeconds = 1) =>
  new AppError(503, code, 'Service unavailable', detail, {}, { 'retry-after': String(retryAfterSeconds) })
