// Boot: login, layout and the hash router. (Skeleton; the shell owner fills it in.)
import { getKey } from './api.js';
import { h, fill } from './dom.js';

const root = document.getElementById('app');
fill(root, h('p', {}, getKey() ? 'HiveBox' : 'Log in'));
