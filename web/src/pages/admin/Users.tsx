// The admin's Users page: every account, with a link to each one's orders.
import { useEffect } from 'react';
import { Link } from 'react-router';
import { useInfiniteQuery } from '@tanstack/react-query';
import { ApiError, ok, userApi } from '../../api/client.js';
import { DateTime, ErrorState, Loading } from '../../components.js';
import { failureText } from './messages.js';
import { ColumnHeads, PagedTable } from './tables.js';

export function Users() {
  useEffect(() => {
    document.title = 'Users: Admin: Northwind Supply';
  }, []);
  const users = useInfiniteQuery({
    queryKey: ['users'],
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) => ok(await userApi.GET('/user/users', { params: { query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.nextCursor,
  });
  const items = users.data?.pages.flatMap((p) => p.items) ?? [];
  // The user service reads the caller's account on each read of this list (docs/api.md): a 403 says this account is
  // no admin any more (demoted while the page was open). What was read before goes from the page with the right to
  // see it: the list kept from the last read showed every customer's name and email on, unsaid.
  const refusal = users.error instanceof ApiError && users.error.status === 403 ? users.error : null;
  return (
    <section aria-labelledby="users-h">
      <h2 id="users-h">Users</h2>
      {users.isPending ? (
        <Loading />
      ) : refusal ? (
        <ErrorState message={failureText(refusal)} />
      ) : users.isError && !users.data ? (
        <ErrorState message={failureText(users.error)} retry={() => void users.refetch()} />
      ) : (
        <PagedTable label="Users table" list={users} shown={items.length} section="users-h">
          <ColumnHeads names={['Name', 'Email', 'Role', 'Joined']} hidden="Orders" />
          <tbody>
            {items.map((u) => (
              <tr key={u.id}>
                <th scope="row">{u.name}</th>
                <td className="text">{u.email}</td>
                <td>{u.role}</td>
                <td>
                  <DateTime iso={u.createdAt} day />
                </td>
                <td>
                  <Link to={`/admin/orders?userId=${u.id}`} aria-label={`Orders of ${u.email}`}>
                    Orders
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </PagedTable>
      )}
    </section>
  );
}
