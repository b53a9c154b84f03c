export * from './reservations.js';
export * from './tokens.js';
export * from './products.js';
