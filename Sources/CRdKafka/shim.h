#ifndef LEADSCORE_CRDKAFKA_SHIM_H
#define LEADSCORE_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* Swift cannot call C variadic functions: a fixed-signature wrapper over rd_kafka_producev.
 * The payload and key are copied by librdkafka (RD_KAFKA_MSG_F_COPY). On success librdkafka owns `hdrs`;
 * on failure the caller still owns it. */
static inline rd_kafka_resp_err_t ls_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                             const void *key, size_t keylen,
                                             const void *val, size_t vallen,
                                             rd_kafka_headers_t *hdrs, void *opaque) {
    if (hdrs) {
        return rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_VALUE((void *)val, vallen),
                                 RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    }
    return rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_VALUE((void *)val, vallen),
                             RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}
#endif
