// `npm run simulator` as its own OS process: configured from the environment, driven through the
// control API, stopped by SIGTERM.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
let child: ChildProcessWithoutNullStreams | undefined

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL')
})

function start (env: Record<string, string>): Promise<{ apiUrl: string, banner: string }> {
  child = spawn(process.execPath, ['--import', 'tsx', 'src/simulator/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env }
  })
  const proc = child
  return new Promise((resolve, reject) => {
    let out = ''
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /API URL:\s+(\S+)/.exec(out)
      if (m?.[1] && out.includes('ENOM_ALLOWED_ORIGINS=')) resolve({ apiUrl: m[1], banner: out })
    })
    proc.once('exit', (code) => reject(new Error(`simulator exited with ${code}: ${out}`)))
  })
}

describe('npm run simulator', () => {
  it('serves the accounts from SIM_ACCOUNTS on SIM_PORT and stops cleanly on SIGTERM', async () => {
    const { apiUrl, banner } = await start({ SIM_PORT: '0', SIM_ACCOUNTS: 'alice:alicepw:1234.5,bob:bobpw', SIM_ISSUE_DELAY_MS: '10' })
    expect(banner).toMatch(/ENOM_ALLOWED_ORIGINS=https:\/\/reseller\.enom\.com,https:\/\/resellertest\.enom\.com,http:\/\/127\.0\.0\.1:\d+/)
    const res = await request(`${apiUrl}?command=GetBalance&uid=alice&pw=alicepw&responsetype=xml`)
    expect(await res.body.text()).toContain('<Balance>1,234.50</Balance>')
    const base = apiUrl.replace(/\/interface\.asp$/, '')
    const bob = await request(`${base}/_sim/accounts/bob`)
    expect(await bob.body.json()).toMatchObject({ uid: 'bob', balance: '5000.00', issueDelayMs: 10 })
    const ledger = await request(`${base}/_sim/ledger`)
    expect(await ledger.body.json()).toEqual([expect.objectContaining({ command: 'GetBalance', uid: 'alice', outcome: 'ok' })])

    const proc = child as ChildProcessWithoutNullStreams
    proc.kill('SIGTERM')
    const [code] = await once(proc, 'exit')
    expect(code).toBe(0)
  })

  it('refuses a malformed SIM_PORT with a configuration error', async () => {
    await expect(start({ SIM_PORT: 'eighty' })).rejects.toThrow(/exited with 78/)
  })
})
