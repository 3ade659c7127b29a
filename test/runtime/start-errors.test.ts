import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { dataDirProblem, listenProblem } from '../../runtime/start-errors.ts'
import { DataDirInUseError } from '../../store/sqlite/data-dir.ts'

const errno = (code: string, message = `${code}: something`) => Object.assign(new Error(message), { code })

// ---

const dataDir = suite('dataDirProblem')

dataDir('in use: names the directory, the pid and what to do', () => {
  assert.is(dataDirProblem(new DataDirInUseError('./data', 1234), './data'),
    'DATA_DIR ./data is in use by another pollwire process (pid 1234); stop it or choose another DATA_DIR')
  assert.match(dataDirProblem(new DataDirInUseError('./data', null), './data')!, /\(pid unknown\)/)
})

dataDir('file system and SQLite errors name DATA_DIR and the cause on one line', () => {
  const cases: [Error, RegExp][] = [
    [errno('ENOTDIR'), /not a directory \(set DATA_DIR\)$/],
    [errno('EACCES'), /permission denied.*\(set DATA_DIR\)$/],
    [errno('EPERM'), /permission denied/],
    [errno('EROFS'), /read-only \(set DATA_DIR\)$/],
    [errno('ENOSPC'), /no space left/],
    [errno('SQLITE_FULL'), /no space left/],
    [errno('SQLITE_CANTOPEN', 'unable to open database file'), /cannot open its database files/],
    [errno('SQLITE_NOTADB', 'file is not a database'), /damaged \(file is not a database\).*pollwire\.lock/],
    [errno('SQLITE_IOERR_WRITE', 'disk I/O error\nmore'), /: disk I\/O error more \(SQLITE_IOERR_WRITE\)$/],
  ]
  for (const [err, line] of cases) {
    const got = dataDirProblem(err, '/srv/poll data')
    assert.ok(got, (err as Error & { code: string }).code)
    assert.match(got!, /^cannot use DATA_DIR \/srv\/poll data: /)
    assert.match(got!, line)
    assert.not.match(got!, /\n/)
  }
})

dataDir('anything else is not ours to explain: null', () => {
  assert.is(dataDirProblem(new TypeError('x is undefined'), './data'), null)
  assert.is(dataDirProblem('a string', './data'), null)
})

dataDir.run()

// ---

const listen = suite('listenProblem')

listen('names the address, the cause and the variable to change', () => {
  assert.is(listenProblem(errno('EADDRINUSE'), '127.0.0.1', 3000), 'cannot listen on 127.0.0.1:3000: the port is in use (set PORT)')
  assert.is(listenProblem(errno('EACCES'), '0.0.0.0', 80), 'cannot listen on 0.0.0.0:80: permission denied; ports below 1024 need privileges (set PORT)')
  assert.is(listenProblem(errno('ENOTFOUND'), 'no-such-host.invalid', 3000),
    'cannot listen on no-such-host.invalid:3000: the host name "no-such-host.invalid" does not resolve to an address (set HOST)')
  assert.match(listenProblem(errno('EAI_AGAIN'), 'box.lan', 3000), /could not be resolved now.*\(set HOST/)
  assert.is(listenProblem(errno('EADDRNOTAVAIL'), '::2', 3000), 'cannot listen on [::2]:3000: ::2 is not an address of this machine (set HOST)')
  assert.is(listenProblem(errno('EWHAT', 'odd\nthing'), '127.0.0.1', 3000), 'cannot listen on 127.0.0.1:3000: odd thing (check HOST and PORT)')
})

listen.run()
