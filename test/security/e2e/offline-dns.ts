/**
 * Preload for start-up tests (test-only): names under `.invalid` fail to resolve at once, the
 * way an unknown name does, without a query to the machine's DNS server: nothing these tests
 * start may reach beyond 127.0.0.1. `net.Server.listen(port, host)` looks `host` up through
 * this very function, so the server meets the ENOTFOUND a real resolver would give.
 */
import dns from 'node:dns'

const lookup = dns.lookup
const patched = function (this: unknown, hostname: string, ...rest: unknown[]) {
  if (typeof hostname === 'string' && /\.invalid\.?$/i.test(hostname)) {
    const callback = rest[rest.length - 1] as (err: NodeJS.ErrnoException) => void
    const err: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
      code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname,
    })
    process.nextTick(callback, err)
    return
  }
  return (lookup as (...args: unknown[]) => unknown).call(this, hostname, ...rest)
}
dns.lookup = patched as typeof dns.lookup
