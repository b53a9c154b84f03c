// The product page's and the cart's Quantity field: apart from components.tsx, whose parts the shop's first visit
// (the catalog) shows.
import { useEffect, useRef, useState } from 'react';

/**
 * A quantity field that lets the shopper type: what is typed is held as text, and only a whole number in
 * [min, max] (a larger one is capped at max) reaches `onChange`. An empty or invalid field goes back to the
 * last good value when it loses focus or on Enter; with min 0, an explicit 0 is committed then too (a cart
 * line's removal), never while typing.
 */
/**
 * `onChange` gets the number typed too when the field lowered it to `max`, even if the quantity stays the same;
 * `onRejected` the text put back (no number, or below `min`) and the number the field shows again (a change still on
 * its way included). Text that is no number is marked invalid meanwhile. `onSettled` gets a quantity once it is taken
 * for good, not at each key typed: the field left or Enter after typing (the last number typed, when the quantity is
 * not the one the typing began at), or an arrow key's step; with the number typed and the answer of its last change.
 *
 * With `pause` (the cart's field, whose every change is the cart's), a number typed is not taken at each key: only once
 * settled (the field left, Enter, an arrow key) or after `pause` ms with no key typed, so typing "12" over 3 is one
 * change to 12, not one to 1 and then one to 12, and "1o" changes nothing (its "1" was taken at once: the cart dropped
 * to 1, then "stays at 1"). A field unmounted with a number still waiting takes it then (its last key is not lost).
 */
export function QuantityInput<T>({ id, value, min, max, disabled, pause, onChange, onRejected, onSettled }: { id: string; value: number; min: 0 | 1; max: number; disabled?: boolean; pause?: number; onChange: (quantity: number, typed: number) => void | Promise<T>; onRejected?: (text: string, kept: number) => void; onSettled?: (quantity: number, typed: number, answered: void | Promise<T>) => void }) {
  const [draft, setDraft] = useState<string | null>(null);
  // A number committed whose change is still on its way (the cart's changes wait for the other tabs' last one): shown
  // until it is answered, so the field does not go back to the old quantity for that moment (Tab after "9" showed 1,
  // then 4), and the arrow keys count from it.
  const [pending, setPending] = useState<number | null>(null);
  const current = pending ?? value;
  // The changes sent since the field was last settled: the quantity before them, and the last one's answer.
  const sent = useRef<{ from: number; answered: void | Promise<T> } | null>(null);
  const commit = (n: number, typed: number) => {
    const answered = onChange(n, typed);
    sent.current = { from: sent.current?.from ?? current, answered };
    if (!answered) return;
    setPending(n);
    void answered.finally(() => setPending((p) => (p === n ? null : p)));
  };
  const parse = (text: string): number | null => (/^\s*\d+\s*$/.test(text) ? Math.min(Number(text), max) : null);
  const settled = (n: number, typed: number) => {
    const s = sent.current;
    sent.current = null;
    if (s && s.from !== n) onSettled?.(n, typed, s.answered);
  };
  // The pause's timer, and the settle of the last render (the timer's and the unmount's, which must see the last text).
  const waiting = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef<() => void>(() => undefined);
  const settle = () => {
    clearTimeout(waiting.current);
    waiting.current = undefined;
    if (draft === null) return;
    const n = parse(draft);
    if (n !== null && n >= min) {
      // Held (pause): taken now, lowered to `max` said as when typed.
      if (n !== current || (pause !== undefined && Number(draft) > max)) commit(n, pause === undefined ? n : Number(draft));
      settled(n, Number(draft));
    } else {
      sent.current = null;
      onRejected?.(draft.trim(), current);
    }
    setDraft(null);
  };
  latest.current = settle;
  useEffect(
    () => () => {
      if (waiting.current !== undefined) latest.current();
    },
    [],
  );
  return (
    <input
      id={id}
      type="text"
      inputMode="numeric"
      pattern="[0-9]*"
      autoComplete="off"
      size={4}
      value={draft ?? String(current)}
      aria-invalid={(draft !== null && draft.trim() !== '' && parse(draft) === null) || undefined}
      disabled={disabled}
      onChange={(e) => {
        const text = e.target.value;
        // Up to 15 characters, every whole number a double holds exactly: a quantity pasted of 7 digits or more
        // ("1000000", "12 units.") was dropped, the field kept its last quantity and said nothing, and Add to cart
        // added that. Now it is lowered to what can be had, or put back as no number, and said, as "2500" is.
        if (text.length > 15) return;
        setDraft(text);
        const n = parse(text);
        if (pause !== undefined) {
          clearTimeout(waiting.current);
          waiting.current = n !== null && n >= 1 ? setTimeout(() => latest.current(), pause) : undefined;
        } else if (n !== null && n >= 1 && (n !== current || Number(text) > max)) commit(n, Number(text));
      }}
      onBlur={settle}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && draft !== null) {
          // A number typed is already the value: Enter goes on to the form's button (Add to cart), as in any
          // form. Anything else is put back to the value, and nothing is sent.
          const n = parse(draft);
          if (n === null || n < min) e.preventDefault();
          settle();
        } else if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
          e.preventDefault();
          clearTimeout(waiting.current);
          waiting.current = undefined;
          // From a number typed and not yet taken (pause), as a number field steps from what it shows.
          const typed = draft === null ? null : parse(draft);
          const from = typed !== null && typed >= 1 ? typed : current;
          const step = Math.max(min, Math.min(max, from + (e.key === 'ArrowUp' ? 1 : -1)));
          const n = step >= 1 ? step : from;
          setDraft(null);
          if (n !== current) commit(n, n);
          // The typing before it is done too, also when the key could not step (the field at its most).
          settled(n, n);
        }
      }}
    />
  );
}
