import { Shell } from '~/components/Shell';
import { shellLoader } from '~/lib/shell.server';

export const loader = shellLoader;
export default Shell;
