.class public Lcom/shipin/bofangqi/MainActivity;
.super Landroid/app/Activity;
.source "MainActivity.java"

# Test fixture for fraudwall's APK analysis: dropper that carries another APK.

.field public static final PAYLOAD_ASSET:Ljava/lang/String; = "update.apk"
.field public static final MIME_APK:Ljava/lang/String; = "application/vnd.android.package-archive"

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/app/Activity;-><init>()V
    return-void
.end method

.method public static install()[Ljava/lang/String;
    .registers 4
    const/16 v0, 0x3
    new-array v0, v0, [Ljava/lang/String;
    const/16 v1, 0x0
    const-string v2, "发现新版本，请立即更新"
    aput-object v2, v0, v1
    const/16 v1, 0x1
    const-string v2, "payload.apk"
    aput-object v2, v0, v1
    const/16 v1, 0x2
    const-string v2, "android.intent.action.VIEW"
    aput-object v2, v0, v1
    return-object v0
.end method
