import LeadKafka
import LeadScoring
