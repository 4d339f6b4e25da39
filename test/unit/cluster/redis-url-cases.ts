import type { RedisTarget } from '../../../libs/cluster/redis-url.ts';

// `cluster.redisUrl` values: parsed by libs/cluster/redis-url.ts (redis-url.test.ts) and
// checked at config load (redis-url-config.test.ts).

export const good: [string, RedisTarget][] = [
  ['redis://127.0.0.1:6379/0', { topology: 'single', tls: false, host: '127.0.0.1', port: 6379, db: 0 }],
  ['redis://localhost', { topology: 'single', tls: false, host: 'localhost', port: 6379, db: 0 }],
  ['redis://redis_1:7000/', { topology: 'single', tls: false, host: 'redis_1', port: 7000, db: 0 }],
  [
    'rediss://:s3cr%3Aet%2F%40x@cache.example.com:6380/15',
    { topology: 'single', tls: true, host: 'cache.example.com', port: 6380, db: 15, password: 's3cr:et/@x' },
  ],
  [
    'redis://app:p+w%25%23@[::1]:6390/2',
    { topology: 'single', tls: false, host: '::1', port: 6390, db: 2, username: 'app', password: 'p+w%#' },
  ],
  ['redis://[::1]', { topology: 'single', tls: false, host: '::1', port: 6379, db: 0 }],
  // An unencoded '@' in a password still works: the last '@' ends the user info.
  [
    'redis://:p@ss@10.0.0.2:6379',
    { topology: 'single', tls: false, host: '10.0.0.2', port: 6379, db: 0, password: 'p@ss' },
  ],
  // An empty password is no password.
  ['redis://:@h', { topology: 'single', tls: false, host: 'h', port: 6379, db: 0 }],
  [
    'redis-sentinel://s1:26379,s2:26380,[fe80::1]/mymaster',
    {
      topology: 'sentinel',
      tls: false,
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
        { host: 'fe80::1', port: 26379 },
      ],
      masterName: 'mymaster',
      db: 0,
    },
  ],
  [
    'rediss-sentinel://u:p%2Fw@s1/my.master%2B1/3?sentinelUsername=su&sentinelPassword=sp%26',
    {
      topology: 'sentinel',
      tls: true,
      sentinels: [{ host: 's1', port: 26379 }],
      masterName: 'my.master+1',
      db: 3,
      username: 'u',
      password: 'p/w',
      sentinelUsername: 'su',
      sentinelPassword: 'sp&',
    },
  ],
  [
    'redis-sentinel://s1:5000/m?sentinelPassword=x',
    {
      topology: 'sentinel',
      tls: false,
      sentinels: [{ host: 's1', port: 5000 }],
      masterName: 'm',
      db: 0,
      sentinelPassword: 'x',
    },
  ],
  [
    'redis-cluster://10.0.0.1:7000,10.0.0.2:7001,[2001:db8::7]:7002',
    {
      topology: 'cluster',
      tls: false,
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '2001:db8::7', port: 7002 },
      ],
    },
  ],
  [
    'rediss-cluster://default:pw@c1.example/',
    {
      topology: 'cluster',
      tls: true,
      nodes: [{ host: 'c1.example', port: 6379 }],
      username: 'default',
      password: 'pw',
    },
  ],
];

export const bad: [string, RegExp][] = [
  ['', /scheme must be one of/],
  ['127.0.0.1:6379', /scheme must be one of/],
  ['http://127.0.0.1:6379', /scheme must be one of/],
  ['REDIS://h', /scheme must be one of/],
  ['redis+sentinel://h/m', /scheme must be one of/],
  ['redis://', /no host/],
  ['redis://:pw@', /no host/],
  ['redis://h:0', /port must be 1-65535/],
  ['redis://h:65536', /port must be 1-65535/],
  ['redis://h:6379x', /port must be 1-65535/],
  ['redis://h:', /port must be 1-65535/],
  ['redis://h/-1', /database index/],
  ['redis://h/01', /database index/],
  ['redis://h/2147483648', /database index/],
  ['redis://h/0/x', /path must be \/<db>/],
  ['redis://a,b', /takes one host/],
  ['redis://h?db=1', /takes no query/],
  ['redis://h#x', /'#' is not allowed/],
  ['redis://h o', /printable ASCII/],
  ['redis://hé', /printable ASCII/],
  ['redis://user@h', /user name needs a password/],
  ['redis://:bad%zz@h', /percent-encoding in the password/],
  ['redis://bad%@h', /percent-encoding in the user name/],
  ['redis://[::1', /unclosed/],
  ['redis://[::g]:1', /invalid IPv6/],
  ['redis://[::1]x', /expected ':' after/],
  ['redis://[10.0.0.1]', /invalid IPv6/],
  ['redis://999.0.0.1', /invalid IPv4/],
  ['redis://-h', /invalid host name/],
  ['redis://h_.x.', /invalid host name/],
  ['redis://' + 'a'.repeat(64), /invalid host name/],
  ['redis://' + 'a'.repeat(4100), /longer than/],
  ['redis-sentinel://s1:26379', /needs the master name/],
  ['redis-sentinel://s1:26379/', /needs the master name/],
  ['redis-sentinel://s1//0', /needs the master name/],
  ['redis-sentinel://s1/m/0/x', /path must be/],
  ['redis-sentinel://s1/m/x', /database index/],
  ['redis-sentinel://s1/m%zz', /percent-encoding in the master name/],
  ['redis-sentinel://s1/my%20master', /master name must be printable/],
  ['redis-sentinel://s1/m?password=x', /unknown query parameter "password"/],
  ['redis-sentinel://s1/m?sentinelPassword', /name=value/],
  ['redis-sentinel://s1/m?sentinelPassword=a&sentinelPassword=b', /given twice/],
  ['redis-sentinel://s1/m?sentinelUsername=u', /needs a sentinelPassword/],
  ['redis-sentinel://s1,s1:26379/m', /host 2 of 2 is listed twice/],
  ['redis-cluster://a:7000,,b:7001', /host 2 of 3: empty/],
  ['redis-cluster://a:7000/0', /only database 0/],
  ['redis-cluster://a:7000?x=1', /takes no query/],
  ['redis-cluster://' + Array.from({ length: 65 }, (_, i) => `h${i}`).join(','), /more than 64 hosts/],
];
