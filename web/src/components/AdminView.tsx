import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError, api } from '../api/http.ts';
import { currentUser } from '../api/session.ts';
import type { MaintenanceReport, Page, RuntimeSettings, User } from '../api/types.ts';
import { loadSuggestions } from '../state/suggestions.ts';
import { ConfirmDialog } from './ConfirmDialog.tsx';

const describe = (error: unknown) =>
  error instanceof ApiError ? error.describe() : 'The server could not be reached.';

/** Administrators: runtime settings, users, maintenance, and links to the queue and API pages. */
export function AdminView() {
  return (
    <main class="page admin">
      <h1>Admin</h1>
      <p class="admin-links">
        <a href="/admin/queues" data-external target="_blank" rel="noopener">
          Queues
        </a>
        <a href="/docs" data-external target="_blank" rel="noopener">
          API docs
        </a>
      </p>
      <p class="hint">The queue dashboard asks for your admin email and password (HTTP basic sign-in).</p>
      <SettingsSection />
      <UsersSection />
      <MaintenanceSection />
    </main>
  );
}

/** The numeric settings and how the form spells them. */
const NUMBER_FIELDS = [
  { key: 'temperature', label: 'Temperature', step: '0.1' },
  { key: 'maxTokens', label: 'Max tokens', step: '1' },
  { key: 'retentionDays', label: 'Retention days', step: '1' },
  { key: 'topK', label: 'Top K', step: '1' },
] as const;

function SettingsSection() {
  const saved = useSignal<RuntimeSettings | null>(null);
  const draft = useSignal<Record<string, string>>({});
  const status = useSignal('');
  const error = useSignal<string | null>(null);

  function show(settings: RuntimeSettings) {
    saved.value = settings;
    draft.value = {
      model: settings.model,
      ...Object.fromEntries(NUMBER_FIELDS.map(({ key }) => [key, String(settings[key])])),
      promptSuggestions: (settings.promptSuggestions ?? []).join('\n'),
    };
  }

  useEffect(() => {
    api<RuntimeSettings>('GET', '/api/v1/admin/settings')
      .then(show)
      .catch((caught: unknown) => {
        error.value = describe(caught);
      });
  }, []);

  async function save(event: Event) {
    event.preventDefault();
    const current = saved.value;
    if (!current) return;
    status.value = '';
    error.value = null;
    const values: Record<string, unknown> = {
      model: draft.value.model?.trim(),
      ...Object.fromEntries(NUMBER_FIELDS.map(({ key }) => [key, Number(draft.value[key])])),
    };
    if (current.promptSuggestions !== undefined) {
      values.promptSuggestions = (draft.value.promptSuggestions ?? '')
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
    }
    try {
      let latest = current;
      // One PUT per changed setting: each is validated by its own rules.
      for (const [key, value] of Object.entries(values)) {
        if (JSON.stringify(value) === JSON.stringify(current[key as keyof RuntimeSettings])) continue;
        latest = await api<RuntimeSettings>('PUT', `/api/v1/admin/settings/${key}`, { body: { value } });
      }
      show(latest);
      void loadSuggestions(true);
      status.value = 'Settings saved';
    } catch (caught) {
      error.value = describe(caught);
    }
  }

  const field = (key: string) => ({
    value: draft.value[key] ?? '',
    onInput: (event: { currentTarget: { value: string } }) => {
      draft.value = { ...draft.value, [key]: event.currentTarget.value };
    },
  });

  return (
    <section class="card" aria-labelledby="settings-heading">
      <h2 id="settings-heading">Settings</h2>
      {saved.value && (
        <form class="settings" onSubmit={save}>
          <label>
            Model
            <input type="text" {...field('model')} />
          </label>
          {NUMBER_FIELDS.map(({ key, label, step }) => (
            <label key={key}>
              {label}
              <input type="number" step={step} {...field(key)} />
            </label>
          ))}
          {saved.value.promptSuggestions !== undefined && (
            <label class="wide">
              Prompt suggestions
              <textarea rows={5} {...field('promptSuggestions')} />
              <span class="hint">One per line, up to 8.</span>
            </label>
          )}
          <div class="form-actions">
            <button type="submit" class="primary">
              Save settings
            </button>
            <p role="status">{status.value}</p>
          </div>
        </form>
      )}
      {error.value && (
        <p role="alert" class="error">
          {error.value}
        </p>
      )}
    </section>
  );
}

function UsersSection() {
  const users = useSignal<User[]>([]);
  const cursor = useSignal<string | null>(null);
  const error = useSignal<string | null>(null);
  const deleting = useSignal<User | null>(null);

  async function load(more = false) {
    try {
      const page = await api<Page<User>>(
        'GET',
        `/api/v1/admin/users?limit=50${more && cursor.value ? `&cursor=${encodeURIComponent(cursor.value)}` : ''}`,
      );
      users.value = more ? [...users.value, ...page.items] : page.items;
      cursor.value = page.nextCursor;
    } catch (caught) {
      error.value = describe(caught);
    }
  }

  useEffect(() => {
    void load();
  }, []);

  async function change(run: () => Promise<void>) {
    error.value = null;
    try {
      await run();
    } catch (caught) {
      error.value = describe(caught);
    }
  }

  const setDisabled = (user: User, disabled: boolean) =>
    change(async () => {
      const updated = await api<User>('PATCH', `/api/v1/admin/users/${user.id}`, { body: { disabled } });
      users.value = users.value.map((item) => (item.id === user.id ? updated : item));
    });

  const remove = (user: User) =>
    change(async () => {
      await api('DELETE', `/api/v1/admin/users/${user.id}`);
      users.value = users.value.filter((item) => item.id !== user.id);
    });

  return (
    <section class="card" aria-labelledby="users-heading">
      <h2 id="users-heading">Users</h2>
      {error.value && (
        <p role="alert" class="error">
          {error.value}
        </p>
      )}
      <div class="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.value.map((user) => {
              const self = user.id === currentUser.value?.id;
              return (
                <tr key={user.id}>
                  <td>{user.email}</td>
                  <td>{user.name ?? ''}</td>
                  <td>{user.role}</td>
                  <td>{user.disabled ? 'Disabled' : user.emailVerified ? 'Active' : 'Unverified'}</td>
                  <td class="row-actions">
                    {!self && (
                      <>
                        <button
                          type="button"
                          class="ghost"
                          onClick={() => void setDisabled(user, !user.disabled)}
                        >
                          {user.disabled ? `Enable ${user.email}` : `Disable ${user.email}`}
                        </button>
                        <button
                          type="button"
                          class="ghost danger-text"
                          onClick={() => {
                            deleting.value = user;
                          }}
                        >
                          Delete {user.email}
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {deleting.value && (
        <ConfirmDialog
          title="Delete this user?"
          onCancel={() => {
            deleting.value = null;
          }}
          onConfirm={() => {
            const user = deleting.value!;
            deleting.value = null;
            void remove(user);
          }}
        >
          <p>{deleting.value.email} and all their conversations and documents will be removed.</p>
        </ConfirmDialog>
      )}
      {cursor.value && (
        <button type="button" class="secondary" onClick={() => void load(true)}>
          Load more
        </button>
      )}
    </section>
  );
}

function MaintenanceSection() {
  const report = useSignal<MaintenanceReport | null>(null);
  const loaded = useSignal(false);
  const status = useSignal('');
  const error = useSignal<string | null>(null);

  async function load() {
    try {
      report.value = (
        await api<{ lastRun: MaintenanceReport | null }>('GET', '/api/v1/admin/maintenance')
      ).lastRun;
      loaded.value = true;
    } catch (caught) {
      error.value = describe(caught);
    }
  }

  useEffect(() => {
    void load();
  }, []);

  async function runNow() {
    error.value = null;
    try {
      const { jobId } = await api<{ jobId: string }>('POST', '/api/v1/admin/maintenance/run');
      status.value = `Maintenance started (job ${jobId}). Reload the report in a moment.`;
    } catch (caught) {
      error.value = describe(caught);
    }
  }

  const last = report.value;
  return (
    <section class="card" aria-labelledby="maintenance-heading">
      <h2 id="maintenance-heading">Maintenance</h2>
      {loaded.value && !last && <p class="muted">No maintenance run yet.</p>}
      {last && (
        <dl class="report">
          <dt>Last run</dt>
          <dd>
            {new Date(last.finishedAt).toLocaleString()} (
            {last.trigger === 'admin' ? 'started by an admin' : 'scheduled'})
          </dd>
          <dt>Retention</dt>
          <dd>{last.retentionDays} days</dd>
          {Object.entries(last.counts).map(([kind, count]) => (
            <>
              <dt key={`${kind}-name`}>{kind}</dt>
              <dd key={`${kind}-count`}>{count}</dd>
            </>
          ))}
        </dl>
      )}
      <div class="form-actions">
        <button type="button" class="primary" onClick={runNow}>
          Run maintenance now
        </button>
        <button type="button" class="secondary" onClick={() => void load()}>
          Reload report
        </button>
      </div>
      <p role="status">{status.value}</p>
      {error.value && (
        <p role="alert" class="error">
          {error.value}
        </p>
      )}
    </section>
  );
}
