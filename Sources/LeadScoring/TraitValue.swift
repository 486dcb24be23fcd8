/// The value of a contact trait as it arrived in JSON.
///
/// Kept typed because the rules compare strictly: a string "120" is not the number 120.
public enum TraitValue: Sendable, Hashable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    /// An object or array: only `exists` can hold on it.
    case other
}
