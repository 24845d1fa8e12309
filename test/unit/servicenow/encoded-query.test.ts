import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEncodedQuery } from '../../../src/devtools/servicenow/encoded-query.ts';
import { startEmulator } from './emulator-client.ts';

describe('parseEncodedQuery', () => {
  it('binds ^OR to the condition before it and ^NQ to whole blocks', () => {
    const parsed = parseEncodedQuery('active=true^state=1^ORstate=2^NQnumber=INC1');
    expect(parsed.blocks).toEqual([
      [
        [{ field: 'active', operator: '=', value: 'true' }],
        [
          { field: 'state', operator: '=', value: '1' },
          { field: 'state', operator: '=', value: '2' },
        ],
      ],
      [[{ field: 'number', operator: '=', value: 'INC1' }]],
    ]);
  });

  it('reads ORDERBY and ORDERBYDESC anywhere, and keeps NOT IN apart from IN', () => {
    const parsed = parseEncodedQuery('ORDERBYDESCsys_created_on^subcategoryNOT INdb2,oracle^ORDERBYnumber');
    expect(parsed.orderBy).toEqual([
      { field: 'sys_created_on', descending: true },
      { field: 'number', descending: false },
    ]);
    expect(parsed.blocks[0]).toEqual([[{ field: 'subcategory', operator: 'NOT IN', value: 'db2,oracle' }]]);
  });

  it('lists terms it cannot read instead of throwing', () => {
    expect(parseEncodedQuery('correlationid^state=1').unparsed).toEqual(['correlationid']);
  });
});

describe('encoded queries against the Table API', () => {
  let sn: Awaited<ReturnType<typeof startEmulator>>;
  const numbers = async (query: string, table = 'incident') => {
    const res = await sn.call(
      'GET',
      `/api/now/table/${table}?sysparm_query=${encodeURIComponent(query)}&sysparm_fields=number`,
    );
    expect(res.status).toBe(200);
    return res.json.result.map((r: { number: string }) => r.number);
  };

  beforeAll(async () => {
    sn = await startEmulator();
    const group = sn.emulator.insert('sys_user_group', { name: 'Plant A' });
    const rows = [
      {
        short_description: 'boiler hot',
        impact: '1',
        urgency: '1',
        correlation_id: 'iot:a',
        assignment_group: group.sys_id,
      },
      { short_description: 'Boiler cold', impact: '2', urgency: '2', correlation_id: 'iot:b', state: '2' },
      { short_description: 'pump noise', impact: '3', urgency: '3', correlation_id: '' },
      { short_description: 'pump leak', impact: '2', urgency: '3', correlation_id: 'other:c', state: '3' },
    ];
    for (const body of rows) await sn.call('POST', '/api/now/table/incident', { body });
  });
  afterAll(async () => {
    await sn.emulator.close();
  });

  it.each([
    ['correlation_id=iot:a', ['INC0010001']],
    ['correlation_id!=iot:a', ['INC0010002', 'INC0010004']],
    ['priorityIN1,5', ['INC0010001', 'INC0010003']],
    ['priorityNOT IN1,5', ['INC0010002', 'INC0010004']],
    ['correlation_idSTARTSWITHiot:', ['INC0010001', 'INC0010002']],
    ['short_descriptionENDSWITHleak', ['INC0010004']],
    ['short_descriptionLIKEoile', ['INC0010001', 'INC0010002']],
    ['short_descriptionNOT LIKEpump', ['INC0010001', 'INC0010002']],
    ['correlation_idISEMPTY', ['INC0010003']],
    ['correlation_idISNOTEMPTY', ['INC0010001', 'INC0010002', 'INC0010004']],
    ['assignment_groupISNOTEMPTY', ['INC0010001']],
    ['priority>3', ['INC0010003', 'INC0010004']],
    ['priority>=3', ['INC0010002', 'INC0010003', 'INC0010004']],
    ['priority<3', ['INC0010001']],
    ['priority<=3', ['INC0010001', 'INC0010002']],
    ['impact=2^urgency=3', ['INC0010004']],
    ['impact=1^ORimpact=3', ['INC0010001', 'INC0010003']],
    ['impact=2^urgency=2^ORurgency=3', ['INC0010002', 'INC0010004']],
    ['impact=1^NQstate=3', ['INC0010001', 'INC0010004']],
    ['assignment_group.name=Plant A', ['INC0010001']],
    ['stateIN1,2,3^ORDERBYDESCpriority', ['INC0010003', 'INC0010004', 'INC0010002', 'INC0010001']],
    ['ORDERBYshort_description', ['INC0010002', 'INC0010001', 'INC0010004', 'INC0010003']],
    ['ORDERBYimpact^ORDERBYDESCurgency', ['INC0010001', 'INC0010004', 'INC0010002', 'INC0010003']],
  ])('%s', async (query, expected) => {
    expect(await numbers(query)).toEqual(expected);
  });

  it.each([
    ['short_descriptionSTARTSWITHboiler', ['INC0010001', 'INC0010002']],
    ['correlation_id=IOT:A', ['INC0010001']],
    ['correlation_id!=IOT:A', ['INC0010002', 'INC0010004']],
    ['correlation_idINIOT:A,Other:C', ['INC0010001', 'INC0010004']],
    ['correlation_idNOT INIOT:A,Other:C', ['INC0010002']],
    ['short_descriptionLIKEBOILER', ['INC0010001', 'INC0010002']],
    ['short_descriptionNOT LIKEBOILER', ['INC0010003', 'INC0010004']],
    ['short_descriptionENDSWITHLEAK', ['INC0010004']],
    ['short_descriptionSAMEASshort_description', ['INC0010001', 'INC0010002', 'INC0010003', 'INC0010004']],
    ['short_description>BOILER HOT^ORDERBYshort_description', ['INC0010004', 'INC0010003']],
  ])('compares strings without regard to case, as an instance does: %s', async (query, expected) => {
    expect(await numbers(query)).toEqual(expected);
  });

  it('with caseSensitiveQueries, strings must match exactly', async () => {
    const strict = await startEmulator({ caseSensitiveQueries: true });
    try {
      await strict.call('POST', '/api/now/table/incident', { body: { correlation_id: 'iot:Pump1' } });
      const query = async (q: string) =>
        (await strict.call('GET', `/api/now/table/incident?sysparm_query=${encodeURIComponent(q)}`)).json
          .result.length;
      expect(await query('correlation_id=iot:pump1')).toBe(0);
      expect(await query('correlation_id=iot:Pump1')).toBe(1);
    } finally {
      await strict.emulator.close();
    }
  });

  it('ignores a term naming an unknown column, so a typo matches every row', async () => {
    expect(await numbers('correlationid=iot:a')).toHaveLength(4);
    expect(await numbers('correlationid=iot:a^impact=1')).toEqual(['INC0010001']);
    expect(await numbers('impact=1^ORDERBYnot_a_column')).toEqual(['INC0010001']);
  });

  it('with invalidQueryReturnsNoRows, an unknown column returns nothing', async () => {
    const strict = await startEmulator({ invalidQueryReturnsNoRows: true });
    try {
      await strict.call('POST', '/api/now/table/incident', { body: { correlation_id: 'iot:a' } });
      const res = await strict.call('GET', '/api/now/table/incident?sysparm_query=correlationid%3Diot%3Aa');
      expect(res.json.result).toEqual([]);
    } finally {
      await strict.emulator.close();
    }
  });
});
