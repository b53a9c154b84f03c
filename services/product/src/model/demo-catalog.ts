import type { NewProduct } from './product.js';

/** The storefront serves one SVG illustration per demo product (web/public/images/products/<sku>.svg). */
function demoImageUrl(sku: string): string {
  return `/images/products/${sku.toLowerCase()}.svg`;
}

const DEMO_ROWS: NewProduct[] = [
  { sku: 'BOOK-DDIA', name: 'Designing Data-Intensive Applications', description: 'Martin Kleppmann on the ideas behind reliable, scalable and maintainable systems.', priceCents: 4599, stock: 40, category: 'books' },
  { sku: 'BOOK-SICP', name: 'Structure and Interpretation of Computer Programs', description: 'Abelson and Sussman, second edition, paperback.', priceCents: 5500, stock: 15, category: 'books' },
  { sku: 'BOOK-PRAGPROG', name: 'The Pragmatic Programmer', description: '20th anniversary edition: from journeyman to master.', priceCents: 3999, stock: 35, category: 'books' },
  { sku: 'BOOK-TAOCP-1', name: 'The Art of Computer Programming, Vol. 1', description: 'Donald Knuth: fundamental algorithms, hardcover.', priceCents: 7999, stock: 8, category: 'books' },
  { sku: 'ELEC-KB-TKL', name: 'Mechanical Keyboard TKL', description: 'Tenkeyless keyboard with hot-swappable brown switches and PBT keycaps.', priceCents: 11900, stock: 25, category: 'electronics' },
  { sku: 'ELEC-MOUSE-ERGO', name: 'Ergonomic Wireless Mouse', description: 'Vertical mouse, Bluetooth and 2.4 GHz, rechargeable.', priceCents: 4900, stock: 60, category: 'electronics' },
  { sku: 'ELEC-HEADPHONES-NC', name: 'Noise-Cancelling Headphones', description: 'Over-ear, 30 hours of battery, USB-C charging.', priceCents: 24900, stock: 12, category: 'electronics' },
  { sku: 'ELEC-MONITOR-27', name: '27-inch 4K Monitor', description: 'IPS panel, USB-C with 65 W power delivery, height-adjustable stand.', priceCents: 39900, stock: 6, category: 'electronics' },
  { sku: 'ELEC-USBC-HUB', name: 'USB-C Hub 7-in-1', description: 'HDMI 4K, two USB-A, SD and microSD readers, 100 W pass-through.', priceCents: 3499, stock: 80, category: 'electronics' },
  { sku: 'HOME-KETTLE', name: 'Gooseneck Electric Kettle', description: 'Variable temperature for pour-over coffee and tea, 0.9 litre.', priceCents: 6900, stock: 20, category: 'home' },
  { sku: 'HOME-FRENCH-PRESS', name: 'French Press 1 L', description: 'Borosilicate glass with a stainless steel filter.', priceCents: 2900, stock: 45, category: 'home' },
  { sku: 'HOME-DESK-LAMP', name: 'LED Desk Lamp', description: 'Dimmable, adjustable colour temperature, USB charging port.', priceCents: 3900, stock: 30, category: 'home' },
  { sku: 'HOME-PLANT-POT', name: 'Ceramic Plant Pot', description: 'Matte white, 20 cm, with drainage hole and saucer.', priceCents: 1900, stock: 50, category: 'home' },
  { sku: 'APP-HOODIE', name: 'Organic Cotton Hoodie', description: 'Heavyweight fleece, unisex fit, charcoal grey.', priceCents: 5900, stock: 40, category: 'apparel' },
  { sku: 'APP-TEE', name: 'Classic T-Shirt', description: 'Organic cotton crew neck, white.', priceCents: 1900, stock: 100, category: 'apparel' },
  { sku: 'APP-SOCKS-3', name: 'Merino Socks, 3 Pack', description: 'Cushioned merino wool socks for every season.', priceCents: 2400, stock: 70, category: 'apparel' },
  { sku: 'APP-CAP', name: 'Baseball Cap', description: 'Adjustable strap, embroidered logo, navy.', priceCents: 2200, stock: 0, category: 'apparel' },
  { sku: 'SPORT-YOGA-MAT', name: 'Yoga Mat', description: 'Non-slip natural rubber, 4 mm thick, with carry strap.', priceCents: 4500, stock: 25, category: 'sports' },
  { sku: 'SPORT-BOTTLE', name: 'Insulated Water Bottle', description: 'Stainless steel, keeps drinks cold for 24 hours, 750 ml.', priceCents: 2900, stock: 90, category: 'sports' },
  { sku: 'SPORT-RUN-BELT', name: 'Running Belt', description: 'Fits a phone and keys, reflective details, no bounce.', priceCents: 1800, stock: 35, category: 'sports' },
];

/** A small catalog so a first `npm start` shows something at once, each product with its picture. */
export const DEMO_PRODUCTS: NewProduct[] = DEMO_ROWS.map((p) => ({ ...p, imageUrl: demoImageUrl(p.sku) }));
