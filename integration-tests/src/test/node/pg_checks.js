// purpose: node-postgres (pg) drives pgbalancer (reads routed to replicas) through one named scenario; run by NodePgIT.
//
// Usage: node pg_checks.js SCENARIO
// Connection details come from the environment: PGB_HOST, PGB_PORT (pgbalancer), PGB_USER, PGB_PASSWORD,
// PGB_DATABASE, PGB_PRIMARY_PORT and PGB_REPLICA_PORTS (comma-separated; the servers themselves, used to check where
// a statement ran). Prints "step: ..." before each driver call and "PASS <scenario>" at the end; any failed check or
// hang (each call is raced against a timeout) exits non-zero with the error.
'use strict'

const assert = require('node:assert/strict')
const { Client } = require('pg')

const env = (name) => {
  const v = process.env[name]
  if (v === undefined) throw new Error(`environment variable ${name} is not set`)
  return v
}
const HOST = env('PGB_HOST')
const PORT = Number(env('PGB_PORT'))
const USER = env('PGB_USER')
const PASSWORD = env('PGB_PASSWORD')
const DATABASE = env('PGB_DATABASE')
const PRIMARY = Number(env('PGB_PRIMARY_PORT'))
const REPLICAS = env('PGB_REPLICA_PORTS').split(',').map(Number).sort()
const STEP_TIMEOUT_MS = 1000 * Number(process.env.PGB_STEP_TIMEOUT || '20')

/** Awaits one driver call; a hang becomes an error naming the call. */
async function step (what, promise, timeoutMs = STEP_TIMEOUT_MS) {
  console.log(`step: ${what}`)
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs / 1000} s (the connection hangs)`)),
      timeoutMs)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function onReplica (port, what) {
  assert.ok(REPLICAS.includes(Number(port)), `${what} ran on port ${port}, expected one of the replicas ${REPLICAS}`)
}

function onPrimary (port, what) {
  assert.equal(Number(port), PRIMARY, `${what} ran on port ${port}, expected the primary ${PRIMARY}`)
}

async function connect (what = 'connect') {
  const client = new Client({
    host: HOST, port: PORT, user: USER, password: PASSWORD, database: DATABASE, connectionTimeoutMillis: 10000
  })
  // an 'error' event without a listener would crash the process with a less useful message
  client.on('error', (e) => console.log(`client error event: ${e.message}`))
  await step(what, client.connect())
  return client
}

async function close (client) {
  try {
    await step('end', client.end(), 5000)
  } catch (e) {
    console.log(`end failed: ${e.message}`)
  }
}

/** A read in a transaction of its own: BEGIN sends it to the primary, which has every write. */
async function onPrimaryRow (client, text, values) {
  await step('begin', client.query('begin'))
  const r = await step(`on the primary: ${text}`, client.query(text, values))
  const p = await step('inet_server_port()', client.query('select inet_server_port() as port'))
  await step('commit', client.query('commit'))
  onPrimary(p.rows[0].port, `a read in a transaction (${text})`)
  return r.rows[0]
}

// ------------------------------------------------------------------------------------------------------ scenarios

async function scenarioSimple () {
  const c = await connect()
  try {
    let r = await step("query('select 1 as one')", c.query('select 1 as one'))
    assert.deepEqual(r.rows, [{ one: 1 }], 'select 1')
    assert.equal(r.command, 'SELECT')
    r = await step('where am I', c.query('select inet_server_port() as port, current_user as who,' +
      ' current_database() as db, pg_is_in_recovery() as standby'))
    onReplica(r.rows[0].port, 'a simple-protocol read')
    assert.deepEqual([r.rows[0].who, r.rows[0].db, r.rows[0].standby], [USER, DATABASE, true])
    const ports = new Set()
    for (let i = 0; i < 12; i++) {
      r = await step(`select inet_server_port() #${i}`, c.query('select inet_server_port() as port'))
      onReplica(r.rows[0].port, `simple read #${i}`)
      ports.add(r.rows[0].port)
    }
    assert.ok(ports.size >= 2, `12 reads used only the replicas ${[...ports]}`)
    // two statements in one Query: pg returns one result per statement
    r = await step('two statements in one query', c.query("select 1 as a; select 'two' as b"))
    assert.ok(Array.isArray(r), 'a multi-statement query returns an array of results')
    assert.deepEqual(r.map((x) => x.rows), [[{ a: 1 }], [{ b: 'two' }]], 'results of a multi-statement query')
    r = await step('1000 rows', c.query('select g from generate_series(1, 1000) g'))
    assert.equal(r.rowCount, 1000)
    assert.deepEqual(r.rows.map((x) => x.g), Array.from({ length: 1000 }, (_, i) => i + 1))
    r = await step('rowMode array', c.query({ text: "select 1, 'x', null::int", rowMode: 'array' }))
    assert.deepEqual(r.rows, [[1, 'x', null]])
  } finally {
    await close(c)
  }
}

async function scenarioParameters () {
  const c = await connect()
  try {
    // a query with values uses the extended protocol (unnamed statement): Parse/Bind/Describe/Execute/Sync
    let r = await step('parameterised query', c.query(
      'select $1::int + $2::int as sum, $3::text as s, $4::text as n, inet_server_port() as port',
      [40, 2, "o'quote; --", null]))
    assert.deepEqual([r.rows[0].sum, r.rows[0].s, r.rows[0].n], [42, "o'quote; --", null], 'parameters')
    onReplica(r.rows[0].port, 'a parameterised read')
    r = await step('typed parameters', c.query(
      "select $1::jsonb -> 'k' as k, $2::bytea as b, $3::timestamptz as t, $4::int[] as a, $5::numeric as n",
      [JSON.stringify({ k: [1, 'two'] }), Buffer.from([0, 1, 255]), new Date('2024-02-29T12:34:56.789Z'),
        [1, 2, 3], '12345.678901234567890']))
    assert.deepEqual(r.rows[0].k, [1, 'two'], 'jsonb')
    assert.deepEqual([...r.rows[0].b], [0, 1, 255], 'bytea')
    assert.equal(r.rows[0].t.toISOString(), '2024-02-29T12:34:56.789Z', 'timestamptz')
    assert.deepEqual(r.rows[0].a, [1, 2, 3], 'int[]')
    assert.equal(r.rows[0].n, '12345.678901234567890', 'numeric')
    const ports = new Set()
    for (let i = 0; i < 20; i++) {
      r = await step(`parameterised read #${i}`, c.query(
        "select $1::int * 3 as x, 'tag ' || $2 as tag, inet_server_port() as port", [i, `t${i}`]))
      assert.deepEqual([r.rows[0].x, r.rows[0].tag], [3 * i, `tag t${i}`], `parameterised read #${i}`)
      onReplica(r.rows[0].port, `parameterised read #${i}`)
      ports.add(r.rows[0].port)
    }
    assert.ok(ports.size >= 2, `20 parameterised reads used only the replicas ${[...ports]}`)
    await step('create table', c.query('drop table if exists node_it_params;' +
      ' create table node_it_params (id int primary key, name text not null)'))
    for (let i = 1; i <= 50; i++) {
      r = await step(`insert #${i}`, c.query(
        'insert into node_it_params (id, name) values ($1, $2) returning inet_server_port() as port', [i, `n${i}`]))
      onPrimary(r.rows[0].port, `parameterised insert #${i}`)
    }
    const row = await onPrimaryRow(c, 'select count(*)::int as c, count(distinct name)::int as d from node_it_params')
    assert.deepEqual([row.c, row.d], [50, 50], 'rows inserted with parameters')
  } finally {
    await close(c)
  }
}

async function scenarioPrepared () {
  const c = await connect()
  const other = await connect('connect (second client)')
  try {
    const doubled = {
      name: 'node_it_doubled',
      text: 'select $1::int * 2 as doubled, upper($2::text) as shout, inet_server_port() as port'
    }
    const ports = new Set()
    for (let i = 0; i < 25; i++) {
      const r = await step(`named statement, execution #${i}`, c.query({ ...doubled, values: [i, `tag${i}`] }))
      assert.deepEqual([r.rows[0].doubled, r.rows[0].shout], [2 * i, `TAG${i}`], `execution #${i}`)
      onReplica(r.rows[0].port, `named statement execution #${i}`)
      ports.add(r.rows[0].port)
    }
    assert.ok(ports.size >= 2, `25 executions of a named read used only the replicas ${[...ports]}`)
    // the same name on a second client, with another text: statements belong to their client
    const tripled = { name: 'node_it_doubled', text: 'select $1::int * 3 as tripled' }
    for (let i = 0; i < 10; i++) {
      const a = await step(`first client #${i}`, c.query({ ...doubled, values: [i, 'first'] }))
      const b = await step(`second client #${i}`, other.query({ ...tripled, values: [i] }))
      assert.deepEqual([a.rows[0].doubled, a.rows[0].shout], [2 * i, 'FIRST'], `first client #${i}`)
      assert.deepEqual(b.rows, [{ tripled: 3 * i }], `second client #${i}`)
    }
    // a named write statement, then reading it back in a transaction
    await step('create table', c.query('drop table if exists node_it_prepared;' +
      ' create table node_it_prepared (id int primary key, v text not null)'))
    const insert = { name: 'node_it_insert', text: 'insert into node_it_prepared values ($1, $2) returning inet_server_port() as port' }
    for (let i = 1; i <= 20; i++) {
      const r = await step(`named insert #${i}`, c.query({ ...insert, values: [i, `v${i}`] }))
      onPrimary(r.rows[0].port, `named insert #${i}`)
    }
    const count = { name: 'node_it_count', text: 'select count(*)::int as c, inet_server_port() as port from node_it_prepared where id <= $1' }
    await step('begin', c.query('begin'))
    for (const n of [5, 20, 100]) {
      const r = await step(`named count(${n}) in a transaction`, c.query({ ...count, values: [n] }))
      assert.equal(r.rows[0].c, Math.min(n, 20), `count of ids <= ${n}`)
      onPrimary(r.rows[0].port, 'a named read in a read-write transaction')
    }
    await step('commit', c.query('commit'))
    // a named statement that fails at execution, then works again
    const divide = { name: 'node_it_divide', text: 'select 100 / $1::int as q' }
    assert.equal((await step('divide(4)', c.query({ ...divide, values: [4] }))).rows[0].q, 25)
    await assert.rejects(step('divide(0)', c.query({ ...divide, values: [0] })), { code: '22012' })
    assert.equal((await step('divide(5)', c.query({ ...divide, values: [5] }))).rows[0].q, 20)
  } finally {
    await close(other)
    await close(c)
  }
}

async function scenarioTransaction () {
  const c = await connect()
  try {
    await step('create table', c.query('drop table if exists node_it_tx;' +
      ' create table node_it_tx (id serial primary key, who text not null, n int not null)'))
    await step('begin', c.query('begin'))
    const seen = []
    let r = await step('insert', c.query(
      'insert into node_it_tx (who, n) values ($1, $2) returning id, inet_server_port() as port, pg_backend_pid() as pid',
      ['committed', 1]))
    seen.push(`${r.rows[0].port}/${r.rows[0].pid}`)
    r = await step('read own write', c.query(
      'select count(*)::int as c, inet_server_port() as port, pg_backend_pid() as pid from node_it_tx where who = $1',
      ['committed']))
    assert.equal(r.rows[0].c, 1, 'the transaction reads its own write')
    seen.push(`${r.rows[0].port}/${r.rows[0].pid}`)
    await step('second insert (simple protocol)', c.query("insert into node_it_tx (who, n) values ('committed', 2)"))
    r = await step('read both writes', c.query(
      'select sum(n)::int as s, inet_server_port() as port, pg_backend_pid() as pid from node_it_tx'))
    assert.equal(r.rows[0].s, 3, 'the transaction reads its second write')
    seen.push(`${r.rows[0].port}/${r.rows[0].pid}`)
    await step('commit', c.query('commit'))
    assert.equal(new Set(seen).size, 1, `one transaction ran on several backends ${seen}`)
    onPrimary(seen[0].split('/')[0], 'a transaction that writes')

    await step('begin', c.query('begin'))
    await step('insert to roll back', c.query('insert into node_it_tx (who, n) values ($1, $2)', ['rolled back', 10]))
    r = await step('read it', c.query("select count(*)::int as c from node_it_tx where who = 'rolled back'"))
    assert.equal(r.rows[0].c, 1, 'the transaction to roll back reads its own write')
    await step('rollback', c.query('rollback'))

    await step('begin', c.query('begin'))
    await step('outer insert', c.query('insert into node_it_tx (who, n) values ($1, $2)', ['outer', 100]))
    await step('savepoint', c.query('savepoint s1'))
    await step('inner insert', c.query('insert into node_it_tx (who, n) values ($1, $2)', ['inner', 1000]))
    await step('rollback to savepoint', c.query('rollback to savepoint s1'))
    await step('commit', c.query('commit'))

    const row = await onPrimaryRow(c, "select string_agg(who || ':' || n, ',' order by id) as rows from node_it_tx")
    assert.equal(row.rows, 'committed:1,committed:2,outer:100', 'committed rows')

    // a read-only transaction goes to a replica, whole
    await step('begin read only', c.query('begin read only'))
    const ro = []
    for (let i = 0; i < 3; i++) {
      r = await step(`read-only read #${i}`, c.query(
        'select inet_server_port() as port, pg_backend_pid() as pid, $1::int as i', [i]))
      ro.push(`${r.rows[0].port}/${r.rows[0].pid}`)
    }
    await step('commit', c.query('commit'))
    assert.equal(new Set(ro).size, 1, `one read-only transaction ran on several backends ${ro}`)
    onReplica(ro[0].split('/')[0], 'a read-only transaction')
  } finally {
    await close(c)
  }
}

async function scenarioError () {
  const c = await connect()
  try {
    await step('create table', c.query('drop table if exists node_it_err; create table node_it_err (id int primary key)'))
    await assert.rejects(step('select 1/0 (simple)', c.query('select 1/0')),
      { code: '22012', message: 'division by zero' })
    let r = await step('select 2 after the error', c.query('select 2 as two, inet_server_port() as port'))
    assert.equal(r.rows[0].two, 2, 'a query after an error')
    onReplica(r.rows[0].port, 'a read after an error')
    await assert.rejects(step('select 1/$1 (extended)', c.query('select 1/$1::int', [0])), { code: '22012' })
    r = await step('parameterised query after the error', c.query('select $1::int as three', [3]))
    assert.equal(r.rows[0].three, 3, 'a parameterised query after an error')
    await assert.rejects(step('missing table', c.query('select * from node_it_missing_table')), { code: '42P01' })
    await assert.rejects(step('syntax error', c.query('selec 1')), { code: '42601' })
    r = await step('select 4', c.query('select 4 as four'))
    assert.equal(r.rows[0].four, 4)

    // an error inside a transaction: the rest fails until ROLLBACK
    await step('begin', c.query('begin'))
    await step('insert', c.query('insert into node_it_err values ($1)', [1]))
    await assert.rejects(step('division by zero in the transaction', c.query('select 1/0')), { code: '22012' })
    await assert.rejects(step('a query in the aborted transaction', c.query('select 5')), { code: '25P02' })
    await step('rollback', c.query('rollback'))
    const row = await onPrimaryRow(c, 'select count(*)::int as c from node_it_err')
    assert.equal(row.c, 0, 'rows of the rolled-back transaction')
    await step('insert 7', c.query('insert into node_it_err values (7)'))
    await assert.rejects(step('insert 7 again', c.query('insert into node_it_err values ($1)', [7])), { code: '23505' })
    r = await step('select after the duplicate key', c.query('select $1::text as s', ['ok']))
    assert.equal(r.rows[0].s, 'ok')
  } finally {
    await close(c)
  }
}

async function scenarioConcurrent () {
  const clients = 8
  const rounds = 25
  async function client (k) {
    const c = await connect(`connect client ${k}`)
    try {
      await step(`client ${k}: set application_name`, c.query(`set application_name = 'node-${k}'`))
      const ports = new Set()
      for (let r = 0; r < rounds; r++) {
        const tag = `client-${k}-round-${r}`
        const res = await step(`client ${k} round ${r}`, c.query(
          "select $1::text as tag, $2::int * 1000 + $3::int as code, current_setting('application_name') as app," +
          ' pg_sleep($4::float8 / 1000) is not null as slept, inet_server_port() as port',
          [tag, k, r, (k * 7 + r * 3) % 5]))
        assert.deepEqual([res.rows[0].tag, res.rows[0].code, res.rows[0].app], [tag, k * 1000 + r, `node-${k}`],
          `client ${k} round ${r}: its own answer`)
        onReplica(res.rows[0].port, `client ${k} round ${r}`)
        ports.add(res.rows[0].port)
        // a named statement only this client has, and a simple query with its tag
        const own = await step(`client ${k} round ${r} (named)`, c.query({
          name: `node_it_client_${k}`, text: `select 'only client ${k}: ' || $1::text as own`, values: [tag]
        }))
        assert.equal(own.rows[0].own, `only client ${k}: ${tag}`, `client ${k} round ${r}: its own statement`)
        const simple = await step(`client ${k} round ${r} (simple)`, c.query(`select '${tag}' as t`))
        assert.equal(simple.rows[0].t, tag, `client ${k} round ${r}: its own simple query`)
      }
      return ports
    } finally {
      await close(c)
    }
  }
  const results = await Promise.all(Array.from({ length: clients }, (_, k) => client(k)))
  const used = new Set(results.flatMap((s) => [...s]))
  assert.ok(used.size >= 2, `${clients} concurrent clients used only the replicas ${[...used]}`)
}

/** 10,000 times: insert a row, then read it back at once on the same connection (routed to a replica). */
async function scenarioCausal () {
  const n = Number(process.env.PGB_CAUSAL_ITERATIONS || '10000')
  const client = await connect()
  try {
    await step('create table', client.query('drop table if exists node_it_causal; create table node_it_causal (id int primary key)'))
    let stale = 0
    let onReplicas = 0
    const loop = async () => {
      for (let i = 0; i < n; i++) {
        await client.query('insert into node_it_causal values ($1)', [i])
        const r = await client.query('select count(*)::int as c, inet_server_port() as port from node_it_causal where id = $1', [i])
        if (r.rows[0].c !== 1) stale++
        if (REPLICAS.includes(r.rows[0].port)) onReplicas++
      }
    }
    await step(`${n} x (insert, read it back)`, loop(), 150000)
    console.log(`causal: ${n} iterations, ${stale} stale reads, ${onReplicas} reads on replicas`)
    if (stale !== 0) throw new Error(`${stale} reads missed the connection's own committed row`)
    if (onReplicas <= n / 2) throw new Error(`only ${onReplicas} of ${n} reads ran on replicas`)
  } finally {
    await close(client)
  }
}

const SCENARIOS = {
  causal: scenarioCausal,
  simple: scenarioSimple,
  parameters: scenarioParameters,
  prepared: scenarioPrepared,
  transaction: scenarioTransaction,
  error: scenarioError,
  concurrent: scenarioConcurrent
}

async function main () {
  const name = process.argv[2]
  if (!SCENARIOS[name]) {
    console.error(`usage: node pg_checks.js {${Object.keys(SCENARIOS).join('|')}}`)
    return 2
  }
  try {
    await SCENARIOS[name]()
  } catch (e) {
    console.error(e)
    console.log(`FAIL ${name}`)
    return 1
  }
  console.log(`PASS ${name}`)
  return 0
}

// exit explicitly: a hung connection must not keep the process alive
main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(1) })
