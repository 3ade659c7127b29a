import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb } from '../../store/sqlite/db.ts'

/**
 * DATA_DIR holds the WhatsApp credentials and every poll secret: a directory openDb creates is
 * 0700, and the database with its -wal and -shm files is 0600 whether openDb creates them or
 * finds them with looser modes (a restored backup, an older version, a permissive umask). An
 * existing directory is the owner's (`DATA_DIR=.`): openDb leaves its mode alone; the app warns
 * at start when it is open to others (test/security/e2e/start-stop.test.ts).
 */

const mode = (path: string) => statSync(path).mode & 0o777
const octal = (m: number) => `0${m.toString(8)}`
const FILES = ['pollwire.db', 'pollwire.db-wal', 'pollwire.db-shm']

const dirs = suite<{ root: string }>('DATA_DIR permissions (openDb)', { root: '' })
dirs.before.each((w) => { w.root = mkdtempSync(join(tmpdir(), 'pollwire-perm-')) })
dirs.after.each((w) => { rmSync(w.root, { recursive: true, force: true }) })

dirs('a new DATA_DIR (nested) is created 0700, the database and its WAL files 0600', (w) => {
  const dir = join(w.root, 'a', 'data')
  const db = openDb(dir)
  try {
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)')
    assert.is(octal(mode(dir)), '0700')
    for (const f of FILES) {
      assert.ok(existsSync(join(dir, f)), `${f} exists while open (WAL)`)
      assert.is(octal(mode(join(dir, f))), '0600', f)
    }
  } finally { db.close() }
})

dirs('files with looser modes are tightened on open; the existing directory keeps its mode', (w) => {
  const dir = join(w.root, 'data')
  mkdirSync(dir, { mode: 0o777 })
  chmodSync(dir, 0o777)
  const first = openDb(dir)
  first.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)')
  first.close()
  // A restore or an older version left everything readable by all.
  for (const f of FILES) {
    if (!existsSync(join(dir, f))) writeFileSync(join(dir, f), '')
    chmodSync(join(dir, f), 0o666)
  }
  chmodSync(dir, 0o755)
  const db = openDb(dir)
  try {
    db.exec('INSERT INTO t VALUES (2)')
    assert.is(octal(mode(dir)), '0755', 'not chmodded: it is not ours')
    for (const f of FILES) assert.is(octal(mode(join(dir, f))), '0600', f)
  } finally { db.close() }
})

dirs.run()
