#ifndef LEADSCORE_CRDKAFKA_SHIM_H
#define LEADSCORE_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
