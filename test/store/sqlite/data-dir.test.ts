import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DataDirInUseError, LOCK_FILE, lockDataDir, prepareDataDir } from '../../../store/sqlite/data-dir.ts'

const mode = (path: string) => statSync(path).mode & 0o777

// ---

const prepare = suite<{ root: string }>('prepareDataDir', { root: '' })
prepare.before.each((w) => { w.root = mkdtempSync(join(tmpdir(), 'pollwire-dir-')) })
prepare.after.each((w) => { rmSync(w.root, { recursive: true, force: true }) })

prepare('a missing directory (nested) is created 0700, even under umask 000', (w) => {
  const dir = join(w.root, 'a', 'b', 'data')
  const previous = process.umask(0o000)
  try {
    assert.equal(prepareDataDir(dir), { created: true, mode: 0o700 })
  } finally { process.umask(previous) }
  assert.is(mode(dir), 0o700)
})

prepare('an existing directory is reported with its mode and left alone', (w) => {
  const dir = join(w.root, 'data')
  mkdirSync(dir)
  chmodSync(dir, 0o755)
  assert.equal(prepareDataDir(dir), { created: false, mode: 0o755 })
  assert.is(mode(dir), 0o755)
})

prepare('a regular file, or a path under one, is ENOTDIR', (w) => {
  const file = join(w.root, 'file')
  writeFileSync(file, 'x')
  for (const dir of [file, join(file, 'data')]) {
    try {
      prepareDataDir(dir)
      assert.unreachable(dir)
    } catch (err) {
      assert.is((err as NodeJS.ErrnoException).code, 'ENOTDIR', dir)
    }
  }
})

prepare.run()

// ---

const lock = suite<{ root: string }>('lockDataDir', { root: '' })
lock.before.each((w) => { w.root = mkdtempSync(join(tmpdir(), 'pollwire-lock-')) })
lock.after.each((w) => { rmSync(w.root, { recursive: true, force: true }) })

lock('takes the lock (file 0600); a second take in this process names this pid; after release it can be taken again', (w) => {
  const first = lockDataDir(w.root)
  assert.ok(existsSync(join(w.root, LOCK_FILE)))
  assert.is(mode(join(w.root, LOCK_FILE)), 0o600)
  try {
    lockDataDir(w.root)
    assert.unreachable('a second lock')
  } catch (err) {
    assert.instance(err, DataDirInUseError)
    assert.is((err as DataDirInUseError).pid, process.pid)
    assert.is((err as DataDirInUseError).dataDir, w.root)
  }
  first.release()
  first.release() // idempotent
  const again = lockDataDir(w.root)
  again.release()
})

lock('the same directory by another path (trailing slash, ./..) is the same lock', (w) => {
  mkdirSync(join(w.root, 'data'))
  const held = lockDataDir(join(w.root, 'data'))
  try {
    for (const alias of [join(w.root, 'data') + '/', join(w.root, 'data', '..', 'data')]) {
      assert.throws(() => lockDataDir(alias), (err: unknown) => err instanceof DataDirInUseError, alias)
    }
  } finally { held.release() }
})

lock('another directory is another lock', (w) => {
  mkdirSync(join(w.root, 'a'))
  mkdirSync(join(w.root, 'b'))
  const a = lockDataDir(join(w.root, 'a'))
  const b = lockDataDir(join(w.root, 'b'))
  a.release()
  b.release()
})

lock.run()
