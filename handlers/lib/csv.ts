/** Quotes a CSV field, and defuses spreadsheet formulas a voter's name could smuggle in. */
export function cell(value: string | number): string {
  let s = String(value)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** A CSV download: CRLF lines, a file name made safe. */
export function csvResponse(lines: string[], filename: string): Response {
  return new Response(lines.join('\r\n') + '\r\n', {
    status: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename.replace(/[^A-Za-z0-9_.-]/g, '')}"`,
    },
  })
}
