/**
 * The code of the worker thread that sends pending messages while the main thread waits
 * in `Atomics.wait` (see exit-send.ts). It is plain JavaScript run with `eval: true`, so it
 * works unchanged from `dist/`, under a TypeScript loader and inside a bundle (a worker
 * file next to this module would be lost by bundlers). It mirrors http.ts and retry.ts in
 * miniature: POST in order; on a 429 wait what the service says, on a 5xx, 408 or network
 * error wait RETRY_DELAY_MS, while the deadline allows; any other answer is final.
 * Slots and codes come from `workerData.layout` and `workerData.codes`.
 */
export const EXIT_WORKER_SOURCE = String.raw`
'use strict'
const { workerData } = require('node:worker_threads')
const http = require('node:http')
const https = require('node:https')
const { shared, requests, deadline, timeoutMs, okField, layout, codes, retryDelayMs, maxAttempts, maxAnswerBytes } = workerData
const state = new Int32Array(shared)

function post(request, timeout) {
  return new Promise((resolve) => {
    let done = false
    let req
    const finish = (answer) => {
      if (done) return
      done = true
      clearTimeout(timer)
      req.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => finish({ failure: codes.FAILURE_TIMEOUT }), timeout)
    const url = new URL(request.url)
    req = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...request.headers, 'content-length': Buffer.byteLength(request.body) },
      agent: false,
    })
    req.on('error', () => finish({ failure: codes.FAILURE_NETWORK }))
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { if (body.length < maxAnswerBytes) body += chunk })
      res.on('error', () => finish({ failure: codes.FAILURE_NETWORK }))
      res.on('end', () => finish({ status: res.statusCode, headers: res.headers, body }))
    })
    // Over https, nothing is written before the server's certificate is verified: written
    // earlier, the request waits in the TLS layer, and when this worker is terminated at
    // the deadline between the handshake and that check, the TLS layer may still send it to
    // a server the check would refuse.
    if (url.protocol !== 'https:') req.end(request.body)
    else req.on('socket', (socket) => {
      const send = () => (socket.authorized ? req.end(request.body) : finish({ failure: codes.FAILURE_NETWORK }))
      if (socket.authorized) send()
      else socket.once('secureConnect', send)
    })
  })
}

function json(text) {
  try { return JSON.parse(text) } catch { return undefined }
}

function seconds(value) {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof number === 'number' && Number.isFinite(number) && number >= 0 ? Math.ceil(number * 1000) : undefined
}

function retryAfterMs(answer) {
  const body = json(answer.body)
  const fromBody = body && typeof body === 'object' ? seconds(body.retry_after) ?? seconds(body.parameters && body.parameters.retry_after) : undefined
  return fromBody ?? seconds(answer.headers['retry-after'])
}

function accepted(answer) {
  if (answer.status < 200 || answer.status >= 300) return false
  if (!okField) return true
  const body = json(answer.body)
  return !(body && typeof body === 'object' && body.ok === false)
}

async function sendOne(request) {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const left = deadline - Date.now()
    if (left <= 0) return codes.OUTCOME_NOT_SENT
    const answer = await post(request, Math.min(timeoutMs, left))
    let wait = retryDelayMs
    if (answer.failure !== undefined) {
      // Cut short by the deadline rather than by the request timeout: the bound was hit.
      const failure = answer.failure === codes.FAILURE_TIMEOUT && left < timeoutMs ? codes.FAILURE_DEADLINE : answer.failure
      Atomics.store(state, layout.LAST_FAILURE, failure)
    } else {
      Atomics.store(state, layout.LAST_STATUS, answer.status)
      if (accepted(answer)) return codes.OUTCOME_SENT
      if (answer.status === 429) wait = retryAfterMs(answer) ?? retryDelayMs
      else if (answer.status < 500 && answer.status !== 408) return codes.OUTCOME_REJECTED
    }
    if (Date.now() + wait >= deadline) return codes.OUTCOME_NOT_SENT
    await new Promise((resolve) => setTimeout(resolve, wait))
  }
  return codes.OUTCOME_NOT_SENT
}

async function main() {
  for (let i = 0; i < requests.length; i++) {
    Atomics.store(state, layout.FIRST_OUTCOME + i, await sendOne(requests[i]))
  }
}

// Whatever happens, the main thread is told the worker is done: it must not wait the whole bound for nothing.
main().catch(() => undefined).finally(() => {
  Atomics.store(state, layout.STATE, codes.STATE_DONE)
  Atomics.notify(state, layout.STATE)
})
`
