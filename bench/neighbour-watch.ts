// The worker's neighbour entry, watched from a thread of its own.
//
// The benches' figure "kill -> the worker's kernel has the new MAC" ends when
// RTM_NEWNEIGH carrying the new MAC is read. Netlink messages carry no kernel
// timestamp, so the stamp is monotonicNow() at the read: a stamp by the
// bench's main JS thread is late by however long that thread was busy (it
// also parses the replicas' stdout events and the frame capture: 1-3 ms late
// under load, measured). Here a worker_thread does nothing but read the
// worker namespace's neighbour notifications (LinkMonitor on its own loop,
// the addon is worker-safe) and stamps the first matching one at once; the
// stamp is posted to the main thread afterwards, so how late the main thread
// reads the message does not matter. process.hrtime (monotonicNow) reads
// CLOCK_MONOTONIC in every thread of the process, the clock of the kill's
// stamp and of the replicas' events (src/clock.ts).
//
// One thread per namespace for the whole bench, not one per round: a fresh
// thread's first notification runs cold code (the monitor's decoding, lazily
// compiled in the new isolate) and stamped 5-7 ms late in a trial; a thread
// that has been reading the namespace's notifications all along (the pings
// that set up each round's entry) is warm.
//
// What remains in the figure past the kernel's update: the wake-up of this
// thread and one recvmsg plus decode (tens of microseconds on an idle core;
// more when both cores are busy, which no stamp taken on reading avoids).
import path from 'node:path'
import { Worker } from 'node:worker_threads'

export interface NeighbourWatch {
  /** The instant (monotonicNow, ms) the watching thread read the first entry for the address on the MAC. */
  changed: Promise<number>
  /** Stops this watch (the thread keeps running for the next). */
  close: () => Promise<void>
}

type Reply = { ready: true } | { armed: number } | { id: number; at: number }

const script = path.join(__dirname, 'neighbour-watch.worker.ts')

/** A thread watching one namespace's neighbour entries; `watch()` once per measurement. */
export class NeighbourWatcher {
  readonly #worker: Worker
  readonly #ready: Promise<void>
  readonly #exited: Promise<void>
  readonly #waiting = new Map<number, { armed?: () => void; changed: (at: number) => void; failed: (error: Error) => void }>()
  #next = 1
  #holds = 0

  private constructor(netns: string) {
    // An eval'd worker has no TypeScript loader of its own: load the script through tsx.
    this.#worker = new Worker(`require('tsx/cjs/api').require(${JSON.stringify(script)}, __filename)`, { eval: true, workerData: { netns } })
    // Keeps the process alive only while something waits on the thread (its
    // start, a watch, close()): a bench that fails before close() still
    // exits, and one that awaits the thread is not cut short.
    this.#worker.unref()
    this.#exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()))
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#worker.on('message', (m: Reply) => {
        if ('ready' in m) return resolve()
        if ('armed' in m) return this.#waiting.get(m.armed)?.armed?.()
        const watch = this.#waiting.get(m.id)
        this.#waiting.delete(m.id)
        watch?.changed(m.at)
      })
      const fail = (error: Error) => {
        reject(error)
        for (const watch of this.#waiting.values()) watch.failed(error)
        this.#waiting.clear()
      }
      this.#worker.once('error', fail)
      this.#worker.once('exit', (code) => fail(new Error(`neighbour watch thread exited (${code})`)))
    })
    this.#ready.catch(() => undefined)
  }

  /** Starts the thread (its monitor subscribes before the first watch() resolves). */
  static open(netns: string): NeighbourWatcher {
    return new NeighbourWatcher(netns)
  }

  /** Resolves once the thread watches for `address` on `mac`: a change after that is seen. */
  async watch(address: string, mac: string, timeoutMs: number): Promise<NeighbourWatch> {
    this.#hold()
    try {
      await this.#ready
    } catch (error) {
      this.#release()
      throw error
    }
    const id = this.#next++
    let timer: NodeJS.Timeout | undefined
    let armed!: () => void
    const subscribed = new Promise<void>((resolve) => (armed = resolve))
    const changed = new Promise<number>((resolve, reject) => {
      const failed = (error: Error) => (clearTimeout(timer), reject(error))
      this.#waiting.set(id, { armed, changed: (at) => (clearTimeout(timer), resolve(at)), failed })
      timer = setTimeout(() => {
        this.#cancel(id)
        reject(new Error(`worker's entry for ${address} not on ${mac} within ${timeoutMs} ms`))
      }, timeoutMs)
    })
    changed.then(() => this.#release(), () => this.#release())
    this.#worker.postMessage({ watch: id, address, mac })
    await Promise.race([subscribed, changed])
    return { changed, close: async () => this.#cancel(id) }
  }

  #cancel(id: number): void {
    const watch = this.#waiting.get(id)
    if (!watch) return
    this.#waiting.delete(id)
    this.#worker.postMessage({ cancel: id })
    watch.failed(new Error('watch closed'))
  }

  #hold(): void {
    if (this.#holds++ === 0) this.#worker.ref()
  }

  #release(): void {
    if (--this.#holds === 0) this.#worker.unref()
  }

  async close(): Promise<void> {
    this.#hold()
    this.#worker.postMessage({ close: true })
    await this.#exited
    this.#release()
  }
}
