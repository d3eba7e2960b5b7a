import { expect } from 'chai';
import { citationsFor, promptWithPassages } from '../../src/answers/context/groundedPrompt.ts';
import { countTokens } from '../../src/llm/tokenCount.ts';
import type { Passage } from '../../src/retrieval/DocumentRetriever.ts';
import { fuseRanks, RRF_K } from '../../src/retrieval/rankFusion.ts';
import { snippetOf } from '../../src/retrieval/snippet.ts';

const passage = (n: number, content = `Passage number ${n} says something.`): Passage => ({
  chunkId: `chunk-${n}`,
  documentId: `doc-${n}`,
  filename: `file-${n}.pdf`,
  page: n,
  content,
  snippet: content.slice(0, 20),
  score: 1 / (RRF_K + n),
  similarity: null,
});

describe('reciprocal rank fusion', () => {
  it('ranks an item found by both lists above items found by one, and keeps each list’s best rank', () => {
    const fused = fuseRanks([
      ['a', 'b', 'c'],
      ['c', 'd', 'c'],
    ]);
    // b and d tie (both rank 2 once): the earlier list's wins, deterministically.
    expect(fused.map((item) => item.id)).to.deep.equal(['c', 'a', 'b', 'd']);
    expect(fused[0]).to.deep.equal({ id: 'c', score: 1 / (RRF_K + 3) + 1 / (RRF_K + 1), ranks: [3, 1] });
    expect(fused.find((item) => item.id === 'd')!.ranks).to.deep.equal([null, 2]);
  });

  it('returns nothing for empty lists', () => {
    expect(fuseRanks([[], []])).to.deep.equal([]);
  });
});

describe('grounded prompt and citations', () => {
  it('numbers passages with their source and page, best first, within the token budget', () => {
    const passages = [passage(1), passage(2, 'word '.repeat(400)), passage(3)];
    const roomy = promptWithPassages('Answer from the passages.', passages, 10_000);
    expect(roomy.used).to.have.length(3);
    expect(roomy.systemPrompt).to.include('[1] (file-1.pdf, page 1)\nPassage number 1');
    expect(roomy.systemPrompt).to.include('[3] (file-3.pdf, page 3)');

    const tight = promptWithPassages('Answer from the passages.', passages, 100);
    expect(tight.used.map((p) => p.chunkId)).to.deep.equal(['chunk-1']);
    expect(countTokens(tight.systemPrompt)).to.be.at.most(100);
  });

  it('always keeps the best passage, even when it alone exceeds the budget', () => {
    const { used } = promptWithPassages('Rules.', [passage(1, 'long '.repeat(500))], 50);
    expect(used).to.have.length(1);
  });

  it('cites the passages an answer names by [n], ignoring numbers it was never given', () => {
    const passages = [passage(1), passage(2), passage(3)];
    const citations = citationsFor('First [2]. Then [3][2] and [1, 3]; not [7] or [0].', passages);
    expect(citations.map((citation) => citation.n)).to.deep.equal([1, 2, 3]);
    expect(citations[1]).to.deep.equal({
      n: 2,
      documentId: 'doc-2',
      chunkId: 'chunk-2',
      filename: 'file-2.pdf',
      page: 2,
      snippet: passages[1]!.snippet,
      score: Number((1 / (RRF_K + 2)).toFixed(6)),
    });
    expect(citationsFor('Only [2].', passages).map((citation) => citation.n)).to.deep.equal([2]);
  });

  it('lists every passage given as a source when the answer cites none', () => {
    expect(citationsFor('No markers here.', [passage(1), passage(2)]).map((c) => c.n)).to.deep.equal([1, 2]);
    expect(citationsFor('Nothing given [1].', [])).to.deep.equal([]);
  });
});

describe('snippets', () => {
  it('keeps a short text whole, with whitespace collapsed', () => {
    expect(snippetOf('A  short\n\ntext.', 'query')).to.equal('A short text.');
  });

  it('centres a long text on the first query word it contains, cut at word boundaries', () => {
    const text = `${'filler words here '.repeat(40)}the turbine bearing is greased monthly ${'more filler text '.repeat(40)}`;
    const snippet = snippetOf(text, 'When is the bearing greased?', 120);
    expect(snippet).to.include('bearing is greased');
    expect(snippet.startsWith('…')).to.equal(true);
    expect(snippet.endsWith('…')).to.equal(true);
    expect(snippet.length).to.be.at.most(122);
  });
});
