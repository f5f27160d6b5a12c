import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { autoconfigXml } from './autoconfig.ts';
import { autodiscoverXml, requestedAddress } from './autodiscover.ts';
import type { DiscoveryOptions } from './types.ts';

/** Mail client autoconfiguration routes (a fastify plugin with its own XML/text body parser). */

export const DISCOVERY_PATHS = ['/.well-known/autoconfig', '/mail/config-v1.1.xml', '/autodiscover'];
const XML = 'application/xml; charset=utf-8';

export function discoveryRoutes(options: DiscoveryOptions) {
  return async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => done(null, body));

    const autoconfig = async (request: FastifyRequest, reply: FastifyReply) => {
      const query = request.query as Record<string, unknown>;
      const address = typeof query.emailaddress === 'string' ? query.emailaddress : undefined;
      return reply.type(XML).header('cache-control', 'public, max-age=3600').send(autoconfigXml(options, address));
    };
    app.get('/.well-known/autoconfig/mail/config-v1.1.xml', autoconfig);
    app.get('/mail/config-v1.1.xml', autoconfig);

    for (const path of ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml']) {
      app.post(path, async (request, reply) => {
        const login = requestedAddress(typeof request.body === 'string' ? request.body : '');
        return reply.type(XML).header('cache-control', 'no-store').send(autodiscoverXml(options, login));
      });
    }
  };
}
