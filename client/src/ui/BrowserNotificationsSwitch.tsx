// The setting "notifications on this browser": pushes while every tab is closed, and the
// browser's notifications while a tab is hidden. See features/push/browserNotifications.
import { useId, useMemo, useState } from 'react';
import { errorText } from '../api/http';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { noticeShown } from '../features/notices/noticesSlice';
import { browserNotificationsDeps } from '../features/push/browserDeps';
import { currentSetting, turnOff, turnOn, type NotificationsSetting } from '../features/push/browserNotifications';

const HINTS: Record<NotificationsSetting, string> = {
  on: 'New messages show up here even when GoChat is closed.',
  off: 'Get a notification when a message arrives while GoChat is closed or in the background.',
  denied: 'Notifications are blocked for this site in your browser’s settings.',
  unsupported: 'This browser cannot show notifications.',
};

export function BrowserNotificationsSwitch() {
  const dispatch = useAppDispatch();
  const user = useAppSelector((s) => s.session.user);
  const deps = useMemo(() => browserNotificationsDeps(dispatch), [dispatch]);
  const [setting, setSetting] = useState<NotificationsSetting>(() => (user ? currentSetting(deps, user.id) : 'off'));
  const [busy, setBusy] = useState(false);
  const labelId = useId();
  const hintId = useId();
  if (!user) return null;

  async function toggle() {
    if (!user) return;
    setBusy(true);
    try {
      if (setting === 'on') {
        await turnOff(deps);
        setSetting('off');
      } else {
        setSetting(await turnOn(deps, user.id));
      }
    } catch (e) {
      // The browser could not subscribe (no push service reachable) or the server refused.
      dispatch(noticeShown(e instanceof Error ? `Notifications: ${e.message}` : errorText(e)));
      setSetting(currentSetting(deps, user.id));
    } finally {
      setBusy(false);
    }
  }

  const on = setting === 'on';
  return (
    <div className="flex items-start gap-3 border-t border-slate-200 px-4 py-3 dark:border-slate-800">
      <span className="min-w-0 flex-1">
        <span id={labelId} className="block text-sm font-medium">
          Notifications on this browser
        </span>
        <span id={hintId} className="block text-xs text-slate-500 dark:text-slate-400">
          {HINTS[setting]}
        </span>
      </span>
      <button
        type="button"
        role="switch"
        aria-checked={on}
        aria-labelledby={labelId}
        aria-describedby={hintId}
        disabled={busy || setting === 'denied' || setting === 'unsupported'}
        onClick={() => void toggle()}
        data-testid="notifications-switch"
        className={`relative mt-0.5 inline-flex h-6 w-11 shrink-0 items-center rounded-full transition-colors disabled:opacity-50 ${
          on ? 'bg-accent-600' : 'bg-slate-300 dark:bg-slate-700'
        }`}
      >
        <span className={`inline-block h-5 w-5 rounded-full bg-white shadow transition-transform ${on ? 'translate-x-5' : 'translate-x-0.5'}`} />
      </button>
    </div>
  );
}
