import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Provider } from 'react-redux';
import { makeStore } from './app/store';
import { browserOnlineChanged } from './features/connection/connectionSlice';
import { App } from './ui/App';
import './index.css';

const store = makeStore();

window.addEventListener('online', () => store.dispatch(browserOnlineChanged(true)));
window.addEventListener('offline', () => store.dispatch(browserOnlineChanged(false)));
store.dispatch(browserOnlineChanged(navigator.onLine));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Provider store={store}>
      <App />
    </Provider>
  </StrictMode>,
);
