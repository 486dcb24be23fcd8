/// Who a synthetic contact is: derived from the contact number alone, so the generator keeps no per-contact
/// profile. The mix gives the example rules something to do: decision makers, big and small companies,
/// target and other industries, ~20 % generic e-mail addresses and ~5 % students.
struct Persona {
    var title: String
    var employees: Int
    var industry: String
    var email: String

    static let titles = ["VP Marketing", "Head of Growth", "Marketing Manager", "Software Engineer", "CTO", "Founder & CEO",
                         "Sales Director", "Data Analyst", "Product Manager", "Chief Revenue Officer", "Consultant", "Operations Lead"]
    static let industries = ["software", "saas", "technology", "retail", "finance", "manufacturing", "healthcare", "media"]
    static let companyDomains = ["acme.io", "globex.com", "initech.com", "umbrella.dev", "hooli.com", "stark.tech", "wayne.co", "soylent.fr"]
    static let genericDomains = ["gmail.com", "yahoo.fr", "hotmail.com", "outlook.com"]

    init(contact n: Int, seed: UInt64) {
        var r = SplitMix64(seed: seed ^ (UInt64(n) &* 0x9E37_79B9_7F4A_7C15))
        let student = r.unit() < 0.05
        if student {
            title = r.unit() < 0.5 ? "Student" : "Étudiant en master"
            industry = r.unit() < 0.6 ? "education" : "software"
            employees = 1 + Int(r.next() % 10)
        } else {
            title = Self.titles[Int(r.next() % UInt64(Self.titles.count))]
            industry = Self.industries[Int(r.next() % UInt64(Self.industries.count))]
            let sizes = [3, 12, 35, 60, 150, 400, 1200, 8000]
            employees = sizes[Int(r.next() % UInt64(sizes.count))]
        }
        let generic = student || r.unit() < 0.2
        let domain = generic ? Self.genericDomains[Int(r.next() % 4)] : Self.companyDomains[Int(r.next() % 8)]
        email = "contact\(n)@\(domain)"
    }
}
