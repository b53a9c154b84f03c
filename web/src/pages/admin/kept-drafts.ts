// The admin's unsaved typing kept in this tab's sessionStorage: an edit when the session ends or the page is left,
// and the New product form as it is typed (a sign-out forgets both: session.ts).
import type { Draft } from './edit-draft.js';
import { EMPTY, type ProductFields } from './product-fields.js';

/**
 * A value kept in this tab's sessionStorage under `key`, read back only when `valid` takes it (anything else stored
 * there, or storage refused, reads as null).
 */
function tabStore<T>(key: string, valid: (stored: unknown) => stored is T) {
  return {
    keep(value: T): void {
      try {
        sessionStorage.setItem(key, JSON.stringify(value));
      } catch {
        // Storage full or refused: nothing to keep it in.
      }
    },
    read(): T | null {
      try {
        const stored: unknown = JSON.parse(sessionStorage.getItem(key) ?? 'null');
        return valid(stored) ? stored : null;
      } catch {
        return null;
      }
    },
    forget(): void {
      sessionStorage.removeItem(key);
    },
  };
}

/** A stored value that is a form's fields (each a string). */
function fieldsOk(f: unknown): f is ProductFields {
  return typeof f === 'object' && f !== null && Object.keys(EMPTY).every((k) => typeof (f as Record<string, unknown>)[k] === 'string');
}

function isDraft(d: unknown): d is Draft {
  if (typeof d !== 'object' || d === null) return false;
  const draft = d as Draft;
  return typeof draft.productId === 'string' && Number.isInteger(draft.version) && fieldsOk(draft.base) && fieldsOk(draft.fields);
}

const editDrafts = tabStore('ecommerce.admin-edit-draft.v1', isDraft);

/**
 * An edit the admin had typed and not saved when the session ended (expired or revoked; a sign-out, here or in another
 * tab, forgets it: userSignedOut): kept in this tab's sessionStorage until that product's edit page opens again, signed
 * in as the same user (another's sign-in empties the tab's sessionStorage, session.ts), and takes it.
 */
export const keptDraft = {
  keep: editDrafts.keep,
  /** The kept draft (of `productId` only, when given). */
  read(productId?: string): Draft | null {
    const draft = editDrafts.read();
    return draft && (productId === undefined || draft.productId === productId) ? draft : null;
  },
  forget: editDrafts.forget,
};

const newDrafts = tabStore('ecommerce.admin-new-product.v1', fieldsOk);

/**
 * What the admin has typed in the New product form and not created: kept in this tab's sessionStorage as it is typed,
 * so a session that expires meanwhile or a reload does not lose it (a sign-out forgets it, session.ts); the form
 * shows it again once back, signed in. Created: forgotten.
 */
export const newDraft = {
  read: (): ProductFields => newDrafts.read() ?? EMPTY,
  keep: newDrafts.keep,
  forget: newDrafts.forget,
};
