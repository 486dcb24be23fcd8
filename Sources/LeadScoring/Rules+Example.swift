/// The CONTRACTS §3 example rules: the default of `bench` and `demo`, and a known-good file for tests.
extension Rules {
    public static let exampleYAML: String = #"""
version: 1
decay:
  half_life: 30d                 # engagement decays exponentially in event time; units s m h d
score:
  min: -100                      # optional clamp of total = fit + engagement
  max: 200
dedupe:
  window: 24h
fit:                             # on the contact's current traits (latest value per trait); never decays
  - name: decision-maker
    when: { trait: title, matches: "(?i)\\b(head|director|vp|chief|founder|ceo|cto|cmo)\\b" }
    points: 15
  - name: company-50-plus
    when: { trait: employees, gte: 50 }
    points: 10
  - name: target-industry
    when: { trait: industry, in: [software, saas, technology] }
    points: 10
  - name: generic-email
    when: { trait: email, matches: "@(gmail|yahoo|hotmail|outlook)\\." }
    points: -10
  - name: student
    when: { any: [ { trait: title, matches: "(?i)student|étudiant" }, { trait: industry, in: [education] } ] }
    points: -30
engagement:                      # per event; points decay with the half-life from the event's time
  - name: content-download
    when: { event: "Content Downloaded" }
    points: 10
    max_points: 30               # lifetime cap on this rule's (undecayed) points per contact
  - name: pricing-page
    when: { page: "^/pricing" }  # regex on properties.path of page events
    points: 5
    limit: { count: 3, per: 1d } # at most 3 firings per rolling day per contact
    intent: high
  - name: demo-request
    when: { event: "Demo Requested" }
    points: 30
    intent: high
  - name: email-open
    when: { event: "Email Opened" }
    points: 2
    limit: { count: 5, per: 1d }
  - name: unsubscribe
    when: { event: "Unsubscribed" }
    points: -20
stages:                          # order is fixed: lead < mql < sal < sql < opportunity < customer < evangelist
  mql:
    when: { score: { gte: 50 } }
  sal:
    when: { event: "Lead Accepted" }                 # manual acceptance by sales
  sql:
    when: { all: [ { score: { gte: 80 } }, { count: { rule: demo-request, gte: 1, within: 30d } } ] }
  opportunity: { when: { event: "Opportunity Created" } }
  customer:    { when: { event: "Deal Won" } }
  evangelist:  { when: { event: "Review Posted" } }
  disqualified: { when: { event: "Lead Disqualified" }, until: { event: "Lead Requalified" } }
  recycle: { below: 25, from: [mql] }                      # an MQL whose decayed score falls below 25 goes back to lead
grades:                          # fit letter x engagement digit, e.g. A1 = best fit, most engaged
  fit: { A: 30, B: 15 }          # fit >= 30 -> A, >= 15 -> B, else C
  engagement: { "1": 60, "2": 30 }
alerts:
  hot_lead:
    on_stages: [sql]             # entering any of these stages emits an alert, always
    on_intent: { min_stage: mql, suppress_for: 24h }   # an `intent: high` rule firing for a contact at mql or above
"""#

    /// `exampleYAML`, parsed (it is known to be valid; a test keeps it so).
    public static let example: Rules = {
        do { return try RulesLoader.parse(yaml: exampleYAML, file: "example-rules.yaml") } catch {
            preconditionFailure("the built-in example rules are invalid: \(error)")
        }
    }()
}
