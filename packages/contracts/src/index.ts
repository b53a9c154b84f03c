export * from './reservations.js';
export * from './tokens.js';
