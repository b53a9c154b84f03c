export * from './reservations.js';
