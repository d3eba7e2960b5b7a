import { expect } from 'chai';
import { explainModelLoadFailure } from '../../src/embeddings/modelSource.ts';
import { checkError, MAX_CHECK_ERROR_CHARS } from '../../src/health/checkError.ts';

describe('readiness check errors', () => {
  it('keeps the embedder’s whole explanation, fix included', () => {
    const cause = new Error(
      '`local_files_only=true` or `env.allowRemoteModels=false` and file was not found locally at ' +
        '"/srv/parley/shared/embedding-models/Xenova/all-MiniLM-L6-v2/tokenizer.json".',
    );
    const message = explainModelLoadFailure(
      'Xenova/all-MiniLM-L6-v2',
      'q8',
      { modelsDir: '/srv/parley/shared/embedding-models', cacheDir: '.data/models' },
      cause,
    );
    expect(message.length).to.be.greaterThan(200);
    expect(checkError(new Error(message))).to.equal(message);
    expect(checkError(new Error(message))).to.match(/npm run models:pull` to download it\.$/);
  });

  it('ends a message past the cap at a word, marked as cut', () => {
    const words = Array.from({ length: 400 }, (_, index) => `word${index}`).join(' ');
    const shown = checkError(new Error(words));
    expect(shown.length).to.be.at.most(MAX_CHECK_ERROR_CHARS);
    expect(shown.endsWith('…')).to.equal(true);
    const kept = shown.slice(0, -1).split(' ');
    expect(words.split(' ').slice(0, kept.length)).to.deep.equal(kept);
  });

  it('shows one line, without anything URL-shaped', () => {
    const shown = checkError(new Error('connect failed: redis://user:secret@db.internal:6379/0\nstack line'));
    expect(shown).to.equal('connect failed: <url>');
  });
});
