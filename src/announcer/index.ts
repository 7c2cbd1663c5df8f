// The announcer: the state machine (announcer.ts), its tenure over the VIP,
// its binding to the link, and the host port they reach the system through.
// `import ... from './announcer'` resolves here.
export * from './announcer'
