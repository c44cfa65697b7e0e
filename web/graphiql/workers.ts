// Monaco's web workers, bundled by Vite (`?worker`) and loaded from this
// origin. The same as `graphiql/setup-workers/vite`, but imported from our
// own source so that `vite` (dev) handles the `?worker` imports itself
// instead of its dependency pre-bundler, which cannot.
import EditorWorker from 'monaco-editor/esm/vs/editor/editor.worker.js?worker';
import JsonWorker from 'monaco-editor/esm/vs/language/json/json.worker.js?worker';
import GraphQLWorker from 'monaco-graphql/esm/graphql.worker.js?worker';
import type {} from 'monaco-editor/esm/vs/editor/editor.api'; // declares MonacoEnvironment

self.MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    switch (label) {
      case 'json':
        return new JsonWorker();
      case 'graphql':
        return new GraphQLWorker();
      default:
        return new EditorWorker();
    }
  },
};
