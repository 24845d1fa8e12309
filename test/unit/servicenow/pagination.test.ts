import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from './emulator-client.ts';

describe('list paging', () => {
  let sn: Awaited<ReturnType<typeof startEmulator>>;
  beforeAll(async () => {
    sn = await startEmulator();
    for (let i = 0; i < 25; i += 1)
      sn.emulator.insert('sys_user_group', { name: `group-${String(i).padStart(2, '0')}` });
  });
  afterAll(async () => {
    await sn.emulator.close();
  });
  const list = (query: string) => sn.call('GET', `/api/now/table/sys_user_group?${query}`);
  const rels = (link: string | null) =>
    Object.fromEntries(
      (link ?? '').split(',').map((part) => {
        const [, url = '', rel = ''] = /^<([^>]+)>;rel="(\w+)"$/.exec(part) ?? [];
        return [rel, new URL(url).searchParams.get('sysparm_offset')];
      }),
    );

  it('sends X-Total-Count of all matches and a Link with first/next/last on the first page', async () => {
    const res = await list('sysparm_limit=10&sysparm_query=ORDERBYname');
    expect(res.json.result).toHaveLength(10);
    expect(res.headers.get('x-total-count')).toBe('25');
    expect(rels(res.headers.get('link'))).toEqual({ first: '0', next: '10', last: '20' });
  });

  it('has prev and next in the middle, prev but no next on the last page', async () => {
    expect(rels((await list('sysparm_limit=10&sysparm_offset=10')).headers.get('link'))).toEqual({
      first: '0',
      prev: '0',
      next: '20',
      last: '20',
    });
    const last = await list('sysparm_limit=10&sysparm_offset=20');
    expect(last.json.result).toHaveLength(5);
    expect(rels(last.headers.get('link'))).toEqual({ first: '0', prev: '10', last: '20' });
  });

  it('writes absolute URLs joined by a comma without a space, keeping the query', async () => {
    const link = (await list('sysparm_limit=10&sysparm_query=nameSTARTSWITHgroup')).headers.get('link') ?? '';
    expect(link).not.toContain(', ');
    expect(link.startsWith(`<${sn.emulator.url}/api/now/table/sys_user_group?`)).toBe(true);
    expect(link).toContain('sysparm_query=nameSTARTSWITHgroup');
  });

  it('leaves Link out when everything fits on one page', async () => {
    const res = await list('');
    expect(res.json.result).toHaveLength(25);
    expect(res.headers.get('x-total-count')).toBe('25');
    expect(res.headers.get('link')).toBeNull();
  });

  it('pages in ORDERBY order', async () => {
    const page = await list(
      'sysparm_limit=3&sysparm_offset=3&sysparm_query=ORDERBYDESCname&sysparm_fields=name',
    );
    expect(page.json.result.map((g: { name: string }) => g.name)).toEqual([
      'group-21',
      'group-20',
      'group-19',
    ]);
  });

  it('sysparm_no_count drops X-Total-Count; sysparm_suppress_pagination_header drops Link', async () => {
    const res = await list('sysparm_limit=5&sysparm_no_count=true&sysparm_suppress_pagination_header=true');
    expect(res.headers.get('x-total-count')).toBeNull();
    expect(res.headers.get('link')).toBeNull();
  });

  it.each(['0', '-3'])('sysparm_limit=%s is the documented 400', async (limit) => {
    const res = await list(`sysparm_limit=${limit}`);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: {
        message: 'Invalid value given for sysparm_limit',
        detail: 'sysparm_limit value must be a positive integer',
      },
      status: 'failure',
    });
  });

  it('a negative sysparm_offset is a 400', async () => {
    const res = await list('sysparm_offset=-1');
    expect(res.status).toBe(400);
    expect(res.json.error).toEqual({ message: 'offset is -1', detail: 'Negative offset is not supported' });
  });
});
