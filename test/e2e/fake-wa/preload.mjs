/**
 * test/e2e/fake-wa/preload.ts without TypeScript, for a compiled server measured as `npm start`
 * runs it (bench/stack.ts): loading tsx would switch on source-mapped stack traces, which
 * production does not pay. test/fake-wa-preload.test.ts checks it trusts the same key.
 */
import { WA_CERT_DETAILS } from '@whiskeysockets/baileys'

WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from('0a3ba6a48adc3fa156f5fc5a1044be873747b61d1284ebddfa300bbaab975f1d', 'hex')
