// The rule engine's public face: compile networks into programs, run programs against dumps,
// and the purposes and why-sentences shared with diff, explain and audit.

export { applyProgram, emptyDump, emptyHostState, type HostState } from './apply.js';
export { compile, DEFAULT_LIBVIRT_VERSION, type CompileOptions } from './compile.js';
export { DEFAULT_LEGACY_VERSION, LEGACY_BOUNDARIES, type Boundary } from './libvirt-legacy.js';
export { changesFirewall, FLAVORS, type Command, type Effect, type Flavor, type NftFamily, type Program } from './program.js';
export { PURPOSES, why, type Purpose, type WhyContext } from './why.js';
export { DEFAULT_XEN_VERSION, XEN_BOUNDARIES } from './xen-common.js';
