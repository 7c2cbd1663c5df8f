// Child process for test/net-worker-terminate.test.ts: starts a worker that
// keeps calling into the addon, terminates it mid-call, 40 times (issue 11,
// defect 1). A C++ exception that escapes during the worker's teardown aborts
// this process (rc 134); surviving every round exits 0.
//   node terminate-workers.js ADDON netlink
//   node terminate-workers.js ADDON capture NETNS   (frames must be arriving on eth0 there)
//   node terminate-workers.js ADDON flood NETNS HEX  sends the frame HEX on eth0 of NETNS
//                                                    as fast as it can, until killed
'use strict'
const { Worker } = require('node:worker_threads')

const [addon, mode, netns, hex] = process.argv.slice(2)
const rounds = Number(process.env.ROUNDS || 40)

const sources = {
  // The reported reproduction: a 1 ms interval calling listLinks().
  netlink: `
    const { parentPort, workerData } = require('node:worker_threads')
    const addon = require(workerData.addon)
    const socket = new addon.NetlinkSocket()
    setInterval(() => socket.listLinks(), 1)
    parentPort.postMessage('ready')`,
  // A capture receiving traffic, its callback doing what FrameCapture's does
  // (src/net/capture.ts): checking `closed` before delivering each frame.
  capture: `
    const { parentPort, workerData } = require('node:worker_threads')
    const addon = require(workerData.addon)
    let said = false
    const capture = new addon.PacketCapture('eth0', workerData.netns, (error, frames) => {
      if (error) throw error
      for (const frame of frames) {
        if (capture.closed) break
        if (!said) parentPort.postMessage('ready')
        said = true
      }
    })`,
}

function flood() {
  const socket = new (require(addon).PacketSocket)('eth0', netns)
  const frame = Buffer.from(hex, 'hex')
  const burst = () => {
    for (let i = 0; i < 100; i++) socket.send(frame)
    setImmediate(burst)
  }
  burst()
}

async function main() {
  if (mode === 'flood') return flood()
  for (let round = 0; round < rounds; round++) {
    const worker = new Worker(sources[mode], { eval: true, workerData: { addon, netns } })
    await new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    // Let it run for a few of its calls, at a varying phase.
    await new Promise((resolve) => setTimeout(resolve, 5 + (round % 7) * 3))
    await worker.terminate()
  }
  process.stdout.write(`survived ${rounds} terminations\n`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
