// The parts every admin list shares: a table that scrolls in its own named region, its column headers, and the
// Load more under it.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { focusAfterRender } from '../../components.js';

/**
 * "Load more" under an admin table. The focus goes to the first row it loaded: the button goes with the last page,
 * and the focus would fall to the page's start.
 */
function LoadMore({ list, shown, section }: { list: { hasNextPage: boolean; isFetchingNextPage: boolean; isFetchNextPageError: boolean; fetchNextPage: (options: { cancelRefetch: boolean }) => Promise<{ isFetchNextPageError: boolean }> }; shown: number; section: string }) {
  if (!list.hasNextPage) return null;
  return (
    <>
      <button
        type="button"
        id={`${section}-more`}
        // Busy, it keeps the focus and a press meanwhile asks nothing more, as the shop's Load more.
        aria-disabled={list.isFetchingNextPage || undefined}
        // A page that could not load keeps the rows shown (the list gave way to an error): said under the button,
        // which keeps the focus and tries again.
        onClick={() => void list.fetchNextPage({ cancelRefetch: false }).then((r) => focusAfterRender(r.isFetchNextPageError ? `[id="${section}-more"]` : `[aria-labelledby="${section}"] tbody tr:nth-child(${shown + 1}) a`))}
      >
        {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
      </button>
      {list.isFetchNextPageError && (
        <p className="error" role="alert">
          More could not be loaded just now; press Load more to try again.
        </p>
      )}
    </>
  );
}

/** An admin list's table, scrolling in its region, with Load more under it while there are more pages. */
export function PagedTable({ label, list, shown, section, children }: { label: string; list: Parameters<typeof LoadMore>[0]['list']; shown: number; section: string; children: ReactNode }) {
  return (
    <>
      <TableRegion label={label}>
        <table>{children}</table>
      </TableRegion>
      <LoadMore list={list} shown={shown} section={section} />
    </>
  );
}

/** A table's column headers; `hidden` names a last column that is heard but not seen (its cells are links). */
export function ColumnHeads({ names, hidden }: { names: string[]; hidden?: string }) {
  return (
    <thead>
      <tr>
        {names.map((name) => (
          <th key={name} scope="col">
            {name}
          </th>
        ))}
        {hidden && (
          <th scope="col">
            <span className="visually-hidden">{hidden}</span>
          </th>
        )}
      </tr>
    </thead>
  );
}

/**
 * A table that may be wider than the screen (a phone) scrolls in its own box, never the page: a shadow at an edge
 * shows that more is that way (styles.css), and the box is a named region that takes the focus while it scrolls,
 * so the keyboard can scroll it too (arrow keys). Named apart from its section, itself a region of the heading's
 * name: two landmarks of one name cannot be told apart.
 */
export function TableRegion({ label, children }: { label: string; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrolls, setScrolls] = useState(false);
  useEffect(() => {
    const box = ref.current!;
    const measure = () => setScrolls(box.scrollWidth > box.clientWidth);
    // The box (the window's width) and the table (rows and names arriving) change what fits.
    const observer = new ResizeObserver(measure);
    observer.observe(box);
    if (box.firstElementChild) observer.observe(box.firstElementChild);
    return () => observer.disconnect();
  }, []);
  return (
    <div ref={ref} className="table-wrap" role="region" aria-label={label} tabIndex={scrolls ? 0 : undefined}>
      {children}
    </div>
  );
}
