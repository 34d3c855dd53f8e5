// Parses every statement of the given package files that runs outside a procedure body (ddl,
// post_commit, maintenance) with node-sql-parser's Redshift grammar. Procedure bodies (PL/pgSQL)
// are beyond that grammar (so is the backfill procedure of daily and append packages, deployed
// as their last ddl part). Exit status 1 when a statement does not parse.
const fs = require('fs');
const { Parser } = require('node-sql-parser');
const parser = new Parser();
let failures = 0, parsed = 0;
for (const file of process.argv.slice(2)) {
  const parts = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^-- @@incmodel step=(\d+) part=(\S+)/);
    if (m) { parts.push({ step: m[1], part: m[2], sql: '' }); continue; }
    if (parts.length) parts[parts.length - 1].sql += line + '\n';
  }
  for (const p of parts) {
    if (p.part === 'procedure' || p.part === 'dispatcher') continue;
    if (/^CREATE OR REPLACE PROCEDURE /.test(p.sql)) continue;
    // The grammar lacks Redshift's table attributes; they are checked by the golden files only.
    const sql = p.sql.trim().replace(/;$/, '')
      .replace(/\s+DISTSTYLE\s+(ALL|EVEN|KEY|AUTO)/g, '')
      .replace(/\s+DISTKEY\s*\([^)]*\)/g, '')
      .replace(/\s+(COMPOUND\s+|INTERLEAVED\s+)?SORTKEY\s*\([^)]*\)/g, '');
    try {
      parser.astify(sql, { database: 'redshift' });
      parsed++;
    } catch (e) {
      failures++;
      console.log(`${file.split('/').pop()} step ${p.step} (${p.part}): ${String(e.message).split('\n')[0]}`);
      console.log(`   ${sql.slice(0, 160)}`);
    }
  }
}
console.log(`node-sql-parser (redshift): ${parsed} parsed, ${failures} rejected`);
process.exit(failures ? 1 : 0);
