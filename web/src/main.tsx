import { render } from 'preact';
import { App } from './components/App.tsx';
import { onLinkClick } from './router.ts';

document.addEventListener('click', onLinkClick);
render(<App />, document.getElementById('app')!);
