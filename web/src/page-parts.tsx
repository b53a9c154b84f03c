// Parts of pages loaded on navigation (cart, checkout, orders, sign-in, admin): kept out of components.tsx, whose
// every export is in the first visit's JavaScript (docs/web.md, "Budgets and measurements").
import { useRef, type ReactNode } from 'react';
import { Link, useLocation } from 'react-router';
import { signInFrom } from './return-path.js';

/** The cart and the checkout say the same when there is nothing to buy. */
export function EmptyCart({ title, held, children }: { title: string; held?: boolean; children?: ReactNode }) {
  const { pathname } = useLocation();
  return (
    <div className="empty">
      <h1>{title}</h1>
      {/* What emptied it (the shop's changes, a refusal), under the page's heading as on a cart with lines: it came
          before the heading, so the page started with an alert and the title under it. */}
      {children && <div className="empty-notes">{children}</div>}
      <p>Your cart is empty.</p>
      {/* A customer's session ended here: their cart is not shown to whoever is at the screen, but not lost either. */}
      {held && (
        <p>
          The cart of the customer who was signed in here is kept for them. <Link to={signInFrom(pathname)}>Sign in</Link> to see it again.
        </p>
      )}
      <p>
        <Link to="/">Browse the shop</Link>
      </p>
    </div>
  );
}

/**
 * In place of what needs the session while the user service could not confirm it (the layout's alert above
 * says so, with Try again): not the sign-in form, the user may well be signed in.
 */
export function WaitingForSession() {
  return <p className="note">This needs your sign-in, which the shop could not confirm just now. It shows here once the shop answers.</p>;
}

/** What a page says when the thing it shows is not there (asking again gets the same answer: a way back, no Try again). */
export function NotFound({ title, heading = 'h2', children }: { title: string; heading?: 'h1' | 'h2'; children: ReactNode }) {
  const H = heading;
  return (
    <div className="empty">
      <H>{title}</H>
      <p>{children}</p>
    </div>
  );
}

/**
 * A mutation's `mutate` that does nothing while a call of it is on its way. The pressed button is disabled only once
 * TanStack Query has told React the mutation is pending, a task later: a double click's second press came before
 * that and was a second request (a second stock change under a key of its own; a 409 for the SKU, or a 412 for the
 * version, the first press had just taken, said in place of its success).
 */
export function useOneAtATime<V>(mutation: { mutateAsync: (variables: V) => Promise<unknown> }): (variables: V) => void {
  const busy = useRef(false);
  return (variables) => {
    if (busy.current) return;
    busy.current = true;
    // The mutation's own callbacks say how it went; here only that it ended.
    void mutation
      .mutateAsync(variables)
      .catch(() => undefined)
      .finally(() => {
        busy.current = false;
      });
  };
}

// What the controls of a cart line (and the admin's Edit links) are named after: the product's name, unless two names
// sound the same.

/**
 * A name as a screen reader says it: case and runs of white space make no difference, nor do compatibility forms
 * (full-width `Ｍｕｇ` is `Mug`) and characters drawn and said as nothing (a zero-width space, a soft hyphen, joiners,
 * variation selectors): `Mug` and `Mug` with a zero-width space were two lines both named "Mug".
 */
export const heard = (name: string) => name.normalize('NFKC').replace(/\p{Default_Ignorable_Code_Point}/gu, '').trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * The names the controls of each line say ("Remove Mug", "Quantity of Mug"), in the lines' order. Each control's
 * name must say which line it acts on: when two lines' names sound the same (two products called "Mug", or "Mug" and
 * "mug "), every line is named with its place too ("Mug (item 2 of 3)"), so no two are alike, even beside a product
 * whose own name reads "Mug (item 1 of 3)".
 */
export function lineLabels(names: readonly string[]): string[] {
  const unique = new Set(names.map(heard)).size === names.length;
  return unique ? [...names] : names.map((name, i) => `${name.trim()} (item ${i + 1} of ${names.length})`);
}
