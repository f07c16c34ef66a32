import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Provider } from 'react-redux';
import { makeStore } from './app/store';
import { browserOnlineChanged } from './features/connection/connectionSlice';
import { navigate } from './lib/router';
import { App } from './ui/App';
import './index.css';

const store = makeStore();

window.addEventListener('online', () => store.dispatch(browserOnlineChanged(true)));
window.addEventListener('offline', () => store.dispatch(browserOnlineChanged(false)));
store.dispatch(browserOnlineChanged(navigator.onLine));

// The service worker shows pushes while every tab is closed (public/sw.js); a click on one, or on
// a hidden tab's notification, asks an open window to show that conversation.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { updateViaCache: 'none' }).catch(() => {});
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent<{ type?: string; path?: string }>) => {
    if (e.data?.type === 'gochat.open' && e.data.path?.startsWith('/')) navigate(e.data.path);
  });
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Provider store={store}>
      <App />
    </Provider>
  </StrictMode>,
);
