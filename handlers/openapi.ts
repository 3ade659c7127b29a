import { type Handler, json } from '../contract/http.ts'
import { openApiDocument } from './lib/openapi.ts'

/** GET /openapi.json — the OpenAPI 3.1 description of this API. */
export const openApi: Handler = () => json(200, openApiDocument)
