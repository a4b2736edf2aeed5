//! Refusing what Graph refuses: every Graph request (also each `$batch` item) is checked against
//! Graph's metadata for the version called (`schema.rs`) before a route answers it.
//!
//! - The path is walked segment by segment: entity set or singleton → key (`/{id}` or `('id')`,
//!   `(prop='…')`) → navigation property → type cast (`microsoft.graph.x`, the type or a derived
//!   one) → bound action or function → `$count`, `$ref`, `$value`. An unknown segment is Graph's
//!   `400 BadRequest` "Resource not found for the segment 'x'.".
//! - On the type the path yields, `$select`, `$expand` (with its nested options), `$orderby` and
//!   the property paths used in `$filter` (comparisons, functions, `any`/`all` lambdas, casts)
//!   must name members of the type or its base types; `$select` on a collection also accepts the
//!   members of derived types (Graph does, e.g. `displayName` on `transitiveMemberOf`). Anything
//!   else is `400 BadRequest` "Could not find a property named 'x' on type 'microsoft.graph.y'.".
//!
//! Documented allowances (where the compact schema knows less than Graph):
//! - a navigation target the schema marks `"?"` (beta names only) or that lies outside the
//!   generated subset, a structural property's sub-path, and what an operation returns that is not
//!   an entity type are not checked further;
//! - beta-only entity types without a known base type derive from `entity` (they have `id`);
//! - any `(prop='…')` alternate key is accepted where `prop` is a property of the type (Graph
//!   accepts only the declared alternate keys, e.g. `devices(deviceId='…')`, which the compact
//!   schema does not list).

use axum::http::StatusCode;

use crate::odata::percent_decode;
use crate::reply::{Reply, graph_error, segment_not_found};
use crate::schema::{Member, VersionSchema};

const NAMESPACE: &str = "microsoft.graph.";

fn property_not_found(schema: &VersionSchema, name: &str, ty: &str) -> Reply {
    graph_error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        &format!(
            "Could not find a property named '{name}' on type '{NAMESPACE}{}'.",
            schema.type_name(ty)
        ),
    )
}

fn not_navigation(schema: &VersionSchema, name: &str, ty: &str) -> Reply {
    graph_error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        &format!(
            "Property '{name}' on type '{NAMESPACE}{}' is not a navigation property or complex property. Only navigation properties can be expanded.",
            schema.type_name(ty)
        ),
    )
}

/// Where the path walk stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pos {
    /// An entity (or collection of entities) of a known type.
    Entity { ty: String, collection: bool },
    /// `…/$count` of a collection of `ty`.
    Count { ty: String },
    /// `$value` or `$ref`: nothing may follow.
    Terminal,
    /// Past what the schema describes: not checked further.
    Unchecked,
}

/// `microsoft.graph.x` → `x` (case ignored).
fn cast_name(segment: &str) -> Option<&str> {
    let prefix = segment.get(..NAMESPACE.len())?;
    prefix
        .eq_ignore_ascii_case(NAMESPACE)
        .then(|| &segment[NAMESPACE.len()..])
}

/// `name(args)` → (`name`, `Some(args)`); anything else → (`segment`, `None`).
fn split_call(segment: &str) -> (&str, Option<&str>) {
    if let Some(open) = segment.find('(')
        && let Some(inner) = segment[open + 1..].strip_suffix(')')
    {
        return (&segment[..open], Some(inner));
    }
    (segment, None)
}

fn entity_or_unchecked(schema: &VersionSchema, ty: Option<String>, collection: bool) -> Pos {
    match ty {
        Some(ty) if schema.has_type(&ty) => Pos::Entity { ty, collection },
        _ => Pos::Unchecked,
    }
}

/// A key in parentheses: `'id'`, `id`, or `prop='value'` (an alternate key).
fn check_key(schema: &VersionSchema, ty: &str, args: &str, segment: &str) -> Result<(), Reply> {
    let quoted = args.starts_with('\'');
    match args.split_once('=') {
        Some((prop, _)) if !quoted => match schema.member(ty, prop.trim()) {
            Some(Member::Property) => Ok(()),
            _ => Err(segment_not_found(segment)),
        },
        _ => Ok(()),
    }
}

/// One path step from `pos` over `segment` (percent-decoded).
fn step(schema: &VersionSchema, pos: Option<Pos>, segment: &str) -> Result<Pos, Reply> {
    let (name, args) = split_call(segment);
    let Some(pos) = pos else {
        let Some((ty, collection)) = schema.root(name) else {
            return Err(segment_not_found(name));
        };
        if !schema.has_type(&ty) {
            return Ok(Pos::Unchecked);
        }
        return Ok(match args {
            Some(a) if collection => {
                check_key(schema, &ty, a, segment)?;
                Pos::Entity {
                    ty,
                    collection: false,
                }
            }
            Some(_) => return Err(segment_not_found(segment)),
            None => Pos::Entity { ty, collection },
        });
    };
    let (ty, collection) = match pos {
        Pos::Entity { ty, collection } => (ty, collection),
        Pos::Unchecked => return Ok(Pos::Unchecked),
        Pos::Count { .. } | Pos::Terminal => return Err(segment_not_found(segment)),
    };
    if name.eq_ignore_ascii_case("$count") && collection {
        return Ok(Pos::Count { ty });
    }
    if name.eq_ignore_ascii_case("$ref") || (!collection && name.eq_ignore_ascii_case("$value")) {
        return Ok(Pos::Terminal);
    }
    if let Some(cast) = cast_name(name) {
        // A bound operation may be namespace-qualified too.
        if let Some(op) = schema.bound_op(&ty, collection, cast) {
            return Ok(entity_or_unchecked(schema, op.entity, op.collection));
        }
        if schema.has_type(cast) && schema.is_same_or_derived(cast, &ty) {
            return Ok(Pos::Entity {
                ty: cast.to_ascii_lowercase(),
                collection,
            });
        }
        return Err(segment_not_found(segment));
    }
    if let Some(op) = schema.bound_op(&ty, collection, name) {
        return Ok(entity_or_unchecked(schema, op.entity, op.collection));
    }
    if collection {
        // Any other segment after a collection is a key.
        return Ok(Pos::Entity {
            ty,
            collection: false,
        });
    }
    match schema.member(&ty, name) {
        Some(Member::Navigation {
            target: Some(target),
            collection: true,
        }) if args.is_some() => {
            check_key(schema, &target, args.unwrap_or_default(), segment)?;
            Ok(Pos::Entity {
                ty: target,
                collection: false,
            })
        }
        Some(Member::Navigation { target, collection }) => {
            Ok(entity_or_unchecked(schema, target, collection))
        }
        Some(Member::Property) => Ok(Pos::Unchecked),
        None => Err(segment_not_found(segment)),
    }
}

/// Splits `text` at `sep` outside parentheses and quotes.
fn split_top(text: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            c if c == sep && !quoted && depth == 0 => {
                out.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// A member path (`a`, `a/b`, `microsoft.graph.x/a`) on `ty`: each step must exist until the
/// schema stops knowing the type.
fn check_member_path(
    schema: &VersionSchema,
    ty: &str,
    path: &str,
    derived_ok: bool,
) -> Result<(), Reply> {
    let mut cur = ty.to_ascii_lowercase();
    let mut derived_ok = derived_ok;
    for seg in path.split('/').map(str::trim) {
        if seg.is_empty() || seg == "*" || seg.starts_with('$') {
            return Ok(());
        }
        if let Some(cast) = cast_name(seg) {
            if schema.has_type(cast) && schema.is_same_or_derived(cast, &cur) {
                cur = cast.to_ascii_lowercase();
                derived_ok = false;
                continue;
            }
            return Err(segment_not_found(seg));
        }
        let member = if derived_ok {
            schema.member_or_derived(&cur, seg)
        } else {
            schema.member(&cur, seg)
        };
        match member {
            None => return Err(property_not_found(schema, seg, &cur)),
            Some(Member::Navigation {
                target: Some(t), ..
            }) if schema.has_type(&t) => {
                cur = t;
                derived_ok = false;
            }
            Some(_) => return Ok(()),
        }
    }
    Ok(())
}

fn check_select(
    schema: &VersionSchema,
    ty: &str,
    collection: bool,
    value: &str,
) -> Result<(), Reply> {
    for item in split_top(value, ',') {
        check_member_path(schema, ty, item.trim(), collection)?;
    }
    Ok(())
}

fn check_orderby(schema: &VersionSchema, ty: &str, value: &str) -> Result<(), Reply> {
    for item in split_top(value, ',') {
        let path = item.split_whitespace().next().unwrap_or_default();
        check_member_path(schema, ty, path, false)?;
    }
    Ok(())
}

fn check_expand(schema: &VersionSchema, ty: &str, value: &str) -> Result<(), Reply> {
    for item in split_top(value, ',') {
        let item = item.trim();
        let (path, nested) = match item.find('(') {
            Some(i) => (
                item[..i].trim(),
                item[i + 1..].strip_suffix(')').unwrap_or(&item[i + 1..]),
            ),
            None => (item, ""),
        };
        if path.is_empty() || path == "*" {
            continue;
        }
        let mut cur = ty.to_ascii_lowercase();
        let mut name = path;
        if let Some((cast, rest)) = path.split_once('/')
            && let Some(c) = cast_name(cast)
        {
            if !(schema.has_type(c) && schema.is_same_or_derived(c, &cur)) {
                return Err(segment_not_found(cast));
            }
            cur = c.to_ascii_lowercase();
            name = rest;
        }
        let name = name.strip_suffix("/$ref").unwrap_or(name);
        match schema.member(&cur, name) {
            None => return Err(property_not_found(schema, name, &cur)),
            Some(Member::Property) => return Err(not_navigation(schema, name, &cur)),
            Some(Member::Navigation { target, collection }) => {
                if let Some(t) = target
                    && !nested.trim().is_empty()
                {
                    let options: Vec<(String, String)> = split_top(nested, ';')
                        .into_iter()
                        .filter_map(|o| o.split_once('='))
                        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                        .collect();
                    check_options(schema, &t, collection, &options)?;
                }
            }
        }
    }
    Ok(())
}

/// A token of a `$filter` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A member path, function name, keyword or lambda variable (with `/` steps).
    Word(String),
    Literal,
    Open,
    Close,
    Colon,
    Other,
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            out.push(Token::Literal);
        } else if c == '(' {
            out.push(Token::Open);
            i += 1;
        } else if c == ')' {
            out.push(Token::Close);
            i += 1;
        } else if c == ':' {
            out.push(Token::Colon);
            i += 1;
        } else if c.is_ascii_digit() || c == '-' {
            // Numbers, dates, times, durations and GUIDs that start with a digit.
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "-.:+".contains(chars[i]))
            {
                i += 1;
            }
            out.push(Token::Literal);
        } else if c.is_ascii_alphabetic() || c == '_' || c == '$' || c == '@' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || "_.$@/-".contains(chars[i]))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if chars.get(i) == Some(&'\'') || is_guid(&word) {
                // A typed literal (`microsoft.graph.x'value'`, `duration'P1D'`) or a GUID.
                out.push(Token::Literal);
            } else {
                out.push(Token::Word(word));
            }
        } else {
            out.push(Token::Other);
            i += 1;
        }
    }
    out
}

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "has", "in", "add", "sub", "mul",
    "div", "divby", "mod", "true", "false", "null", "inf", "nan",
];

/// The entity type a collection path (`a/b`) on `ty` leads to, for a lambda's variable
/// (`None`: not an entity type the schema knows).
fn path_target(schema: &VersionSchema, ty: &str, path: &str) -> Option<String> {
    let mut cur = ty.to_ascii_lowercase();
    for seg in path.split('/') {
        if let Some(cast) = cast_name(seg) {
            cur = cast.to_ascii_lowercase();
            continue;
        }
        match schema.member(&cur, seg)? {
            Member::Navigation {
                target: Some(t), ..
            } => cur = t,
            _ => return None,
        }
    }
    schema.has_type(&cur).then_some(cur)
}

/// The property paths a `$filter` uses, checked on `ty`.
fn check_filter(schema: &VersionSchema, ty: &str, text: &str) -> Result<(), Reply> {
    let tokens = tokenize(text);
    // Lambda variables in scope: (name, element type, paren depth that closes the lambda).
    let mut vars: Vec<(String, Option<String>, i32)> = Vec::new();
    let mut depth = 0i32;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Open => depth += 1,
            Token::Close => {
                depth -= 1;
                vars.retain(|(_, _, d)| *d <= depth);
            }
            Token::Word(word) => {
                let next_open = tokens.get(i + 1) == Some(&Token::Open);
                let lower = word.to_ascii_lowercase();
                // Keywords, and type names (`cast(x, Edm.String)`, `isof(microsoft.graph.user)`).
                if KEYWORDS.contains(&lower.as_str())
                    || lower.starts_with("edm.")
                    || (cast_name(word).is_some() && !word.contains('/'))
                {
                    i += 1;
                    continue;
                }
                let head = word.split_once('/').map_or(word.as_str(), |(h, _)| h);
                // `collection/any(v: …)`: check the collection, bind `v`.
                let lambda = word.rsplit_once('/').filter(|(_, f)| {
                    next_open && (f.eq_ignore_ascii_case("any") || f.eq_ignore_ascii_case("all"))
                });
                if next_open && lambda.is_none() {
                    // A function name: its arguments are checked as they come.
                    i += 1;
                    continue;
                }
                let checked = lambda.map_or(word.as_str(), |(p, _)| p);
                let var = vars.iter().rev().find(|(n, _, _)| n == head);
                let (base_ty, path): (Option<String>, &str) = match var {
                    Some((_, vty, _)) => (vty.clone(), checked.get(head.len()..).unwrap_or("")),
                    None if head == "$it" || head == "$this" => (
                        Some(ty.to_string()),
                        checked.get(head.len()..).unwrap_or(""),
                    ),
                    None => (Some(ty.to_string()), checked),
                };
                let path = path.trim_start_matches('/');
                if let Some(bt) = &base_ty
                    && !path.is_empty()
                {
                    check_member_path(schema, bt, path, false)?;
                }
                if lambda.is_some() {
                    let element = match &base_ty {
                        Some(bt) if !path.is_empty() => path_target(schema, bt, path),
                        _ => None,
                    };
                    // `(v:` after `any`
                    if let (Some(Token::Word(v)), Some(Token::Colon)) =
                        (tokens.get(i + 2), tokens.get(i + 3))
                    {
                        vars.push((v.clone(), element, depth + 1));
                        // Skip `any`, `(`, `v`, `:`.
                        depth += 1;
                        i += 4;
                        continue;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Normalised OData option name (`$select` for `$select`, `select`, `$SELECT`), `None` for a
/// parameter that is not an OData option.
fn option_name(name: &str) -> Option<String> {
    let lower = name.trim().to_ascii_lowercase();
    let bare = lower.trim_start_matches('$');
    matches!(bare, "select" | "expand" | "filter" | "orderby").then(|| format!("${bare}"))
}

fn check_options(
    schema: &VersionSchema,
    ty: &str,
    collection: bool,
    options: &[(String, String)],
) -> Result<(), Reply> {
    for (name, value) in options {
        match option_name(name).as_deref() {
            Some("$select") => check_select(schema, ty, collection, value)?,
            Some("$expand") => check_expand(schema, ty, value)?,
            Some("$filter") => check_filter(schema, ty, value)?,
            Some("$orderby") => check_orderby(schema, ty, value)?,
            _ => {}
        }
    }
    Ok(())
}

/// Checks a request's path (after `/v1.0` or `/beta`) and query string against `schema`.
pub(crate) fn request(schema: &VersionSchema, path: &str, raw_query: &str) -> Result<(), Reply> {
    let mut pos: Option<Pos> = None;
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        pos = Some(step(schema, pos, &percent_decode(raw))?);
    }
    let Some(pos) = pos else {
        return Ok(());
    };
    // A query string the mock cannot parse is refused by `odata::parse`.
    let Ok(options) = serde_urlencoded::from_str::<Vec<(String, String)>>(raw_query) else {
        return Ok(());
    };
    match pos {
        Pos::Entity { ty, collection } => check_options(schema, &ty, collection, &options),
        Pos::Count { ty } => {
            let filters: Vec<(String, String)> = options
                .into_iter()
                .filter(|(n, _)| option_name(n).as_deref() == Some("$filter"))
                .collect();
            check_options(schema, &ty, true, &filters)
        }
        Pos::Terminal | Pos::Unchecked => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::ReplyBody;
    use crate::schema::schema;

    fn v1() -> &'static VersionSchema {
        &schema().expect("embedded schema").v1
    }

    fn beta() -> &'static VersionSchema {
        &schema().expect("embedded schema").beta
    }

    fn message(r: Result<(), Reply>) -> String {
        match r {
            Ok(()) => "ok".into(),
            Err(reply) => match reply.body {
                ReplyBody::Json(v) => format!(
                    "{} {} {}",
                    reply.status.as_u16(),
                    v["error"]["code"].as_str().unwrap_or(""),
                    v["error"]["message"].as_str().unwrap_or("")
                ),
                _ => "not json".into(),
            },
        }
    }

    #[test]
    fn paths_walk_roots_keys_navigations_casts_and_operations() {
        for ok in [
            "/users",
            "/users/a@contoso.com",
            "/users('a@contoso.com')",
            "/me/transitiveMemberOf",
            "/users/x/transitiveMemberOf/microsoft.graph.group",
            "/groups/g/transitiveMembers/microsoft.graph.user/$count",
            "/users/x/checkMemberGroups",
            "/users/x/microsoft.graph.checkMemberGroups",
            "/devices(deviceId='abc')",
            "/users/x/displayName/$value",
            "/identity/conditionalAccess/policies/p1",
            "/deviceManagement/deviceEnrollmentConfigurations/c/assignments",
            "/users/x/memberOf/$ref",
        ] {
            assert_eq!(message(request(v1(), ok, "")), "ok", "{ok}");
        }
        assert_eq!(
            message(request(v1(), "/users/x/transitiveMemberOff", "")),
            "400 BadRequest Resource not found for the segment 'transitiveMemberOff'."
        );
        assert_eq!(
            message(request(v1(), "/userz", "")),
            "400 BadRequest Resource not found for the segment 'userz'."
        );
        // a cast to a type that does not derive from the collection's
        assert_eq!(
            message(request(
                v1(),
                "/users/x/memberOf/microsoft.graph.managedDevice",
                ""
            )),
            "400 BadRequest Resource not found for the segment 'microsoft.graph.managedDevice'."
        );
        // nothing after $count; alternate keys only on properties
        assert!(request(v1(), "/users/$count/x", "").is_err());
        assert!(request(v1(), "/devices(nope='abc')", "").is_err());
        // beta-only segments are beta only
        assert!(request(v1(), "/policies/mobileDeviceManagementPolicies", "").is_err());
        assert!(request(v1(), "/deviceManagement/assignmentFilters", "").is_err());
        assert_eq!(
            message(request(
                beta(),
                "/policies/mobileDeviceManagementPolicies/p/includedGroups",
                ""
            )),
            "ok"
        );
        assert_eq!(
            message(request(
                beta(),
                "/deviceManagement/assignmentFilters",
                "$select=id,displayName,platform,rule"
            )),
            "ok"
        );
    }

    #[test]
    fn select_expand_orderby_name_members_of_the_type() {
        assert_eq!(
            message(request(v1(), "/users", "$select=id,userPrincipalName,nope")),
            "400 BadRequest Could not find a property named 'nope' on type 'microsoft.graph.user'."
        );
        // derived-type properties on a polymorphic collection
        assert_eq!(
            message(request(
                v1(),
                "/users/x/transitiveMemberOf",
                "$select=id,displayName,roleTemplateId"
            )),
            "ok"
        );
        assert_eq!(
            message(request(
                v1(),
                "/users/x/ownedDevices",
                "$select=deviceId,trustType"
            )),
            "ok"
        );
        // ... but not on a single entity of the base type's own members
        assert!(request(v1(), "/directoryObjects/x", "$select=nope").is_err());
        assert_eq!(
            message(request(
                v1(),
                "/groups/g/transitiveMembers/microsoft.graph.user",
                "$select=id,usageLocation"
            )),
            "ok"
        );
        assert_eq!(
            message(request(
                beta(),
                "/deviceManagement/deviceEnrollmentConfigurations",
                "$expand=assignments"
            )),
            "ok"
        );
        assert_eq!(
            message(request(
                beta(),
                "/deviceManagement/deviceEnrollmentConfigurations",
                "$expand=assignmentz"
            )),
            "400 BadRequest Could not find a property named 'assignmentz' on type 'microsoft.graph.deviceEnrollmentConfiguration'."
        );
        assert!(
            message(request(v1(), "/users", "$expand=displayName"))
                .contains("is not a navigation property")
        );
        assert_eq!(
            message(request(
                v1(),
                "/groups/g",
                "$expand=members($select=id,nope)"
            )),
            "400 BadRequest Could not find a property named 'nope' on type 'microsoft.graph.directoryObject'."
        );
        assert_eq!(
            message(request(v1(), "/users", "$orderby=displayName desc,nope")),
            "400 BadRequest Could not find a property named 'nope' on type 'microsoft.graph.user'."
        );
        // option names without `$` and in any case
        assert!(request(v1(), "/users", "select=nope").is_err());
        assert!(request(v1(), "/users", "$SELECT=ID").is_ok());
    }

    #[test]
    fn filter_property_paths_are_checked() {
        for ok in [
            "displayName eq 'a b''c'",
            "startswith(displayName,'a') and accountEnabled eq true",
            "assignedLicenses/any(x:x/skuId eq c42b9cae-ea4f-4ab7-9717-81576235ccac)",
            "createdDateTime ge 2024-01-01T00:00:00Z",
            "userType in ('Guest','Member') or not(accountEnabled eq false)",
            "manager/id eq 'x'",
            "cast(employeeId, Edm.String) eq '1' and isof(microsoft.graph.user)",
        ] {
            assert_eq!(
                message(request(
                    v1(),
                    "/users",
                    &format!("$filter={}", urlencode(ok))
                )),
                "ok",
                "{ok}"
            );
        }
        assert_eq!(
            message(request(v1(), "/devices", "$filter=deviceID%20eq%20'x'")),
            "ok",
            "case is ignored"
        );
        assert_eq!(
            message(request(v1(), "/devices", "$filter=nope%20eq%20'x'")),
            "400 BadRequest Could not find a property named 'nope' on type 'microsoft.graph.device'."
        );
        assert_eq!(
            message(request(v1(), "/users", "$filter=startswith(nope,'a')")),
            "400 BadRequest Could not find a property named 'nope' on type 'microsoft.graph.user'."
        );
        assert_eq!(
            message(request(
                v1(),
                "/groups",
                "$filter=members/any(m:m/nope eq 'x')"
            )),
            "400 BadRequest Could not find a property named 'nope' on type 'microsoft.graph.directoryObject'."
        );
        assert!(request(v1(), "/users/$count", "$filter=nope eq 1").is_err());
    }

    fn urlencode(s: &str) -> String {
        serde_urlencoded::to_string([("v", s)])
            .unwrap_or_default()
            .trim_start_matches("v=")
            .to_string()
    }
}
