// Public face of the developer tools: the local stack and the device simulator.
export * from './simulator/index.ts';
export * from './stack/index.ts';
