// Input validation for the network facade. Everything a caller hands to
// `Netlink` passes through here before it reaches C++, so a mistake surfaces as
// a TypeError/RangeError naming the field and showing the value, with the same
// `code`s Node uses ('ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE',
// 'ERR_OUT_OF_RANGE'), and never as a half-applied change or a kernel EINVAL.
// One module per responsibility; this one gathers them for the facade's
// callers (the announcer, the configuration loader) and its public exports.
export * from './coded-errors'
export * from './ip-parse'
export * from './kernel-values'
export * from './request-specs'
