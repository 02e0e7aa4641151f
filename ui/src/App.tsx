import { Nav } from './components/Nav';
import { Failed } from './pages/Failed';
import { Gpt } from './pages/Gpt';
import { JobDetail } from './pages/JobDetail';
import { Jobs } from './pages/Jobs';
import { Overview } from './pages/Overview';
import { Queues } from './pages/Queues';
import { Schedule } from './pages/Schedule';
import { Telegram } from './pages/Telegram';
import { Workers } from './pages/Workers';
import { useRoute, type Route } from './route';
import { useSession } from './session';

/** The page for the hash: `#/failed?queue=mail`, `#/jobs/42`. */
function Page({ route }: { route: Route }) {
  const { features } = useSession();
  const [section = '', id] = route.parts;
  switch (section) {
    case '':
      return <Overview />;
    case 'queues':
      return <Queues />;
    case 'jobs':
      return id ? <JobDetail id={id} /> : <Jobs route={route} />;
    case 'failed':
      return <Failed route={route} />;
    case 'workers':
      return <Workers />;
    case 'schedule':
      return <Schedule />;
    case 'telegram':
      if (features?.telegram) return <Telegram route={route} />;
      break;
    case 'gpt':
      if (features?.gpt) return <Gpt route={route} />;
      break;
  }
  return (
    <>
      <h1>Not found</h1>
      <p>
        No page <code>#/{route.parts.join('/')}</code>. <a href="#/">Back to the overview</a>.
      </p>
    </>
  );
}

export function App() {
  const route = useRoute();
  return (
    <>
      <Nav current={route.parts[0] ?? ''} />
      <main>
        <Page route={route} />
      </main>
    </>
  );
}
