// The build's flag: scripts/build-pkg defines it `false` for the default
// bundle (pkg/resocket.js), so every branch on it is dropped there, and
// `true` for resocket/shared (pkg/shared.js). Unbundled (the unit tests) it
// is undefined: the default behaviour.
declare var RESOCKET_SHARED_TABS: boolean | undefined;
