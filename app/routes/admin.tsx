import { data, type LoaderFunctionArgs } from '@remix-run/node';
import { Shell } from '~/components/Shell';
import { shellLoader } from '~/lib/shell.server';

// The pages' data is guarded by the admin procedures; this spares others a page of errors.
export async function loader(args: LoaderFunctionArgs) {
  const shell = await shellLoader(args);
  if (!shell.user.isAdmin) throw data('This page is for administrators.', { status: 403 });
  return shell;
}

export default Shell;
