export { startTlsProxy, type ProxiedRequest, type TlsProxy, type TlsProxyOptions } from './tls-proxy';
