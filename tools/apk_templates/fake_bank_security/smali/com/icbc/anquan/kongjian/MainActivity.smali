.class public Lcom/icbc/anquan/kongjian/MainActivity;
.super Landroid/app/Activity;
.source "MainActivity.java"

# Test fixture for fraudwall's APK analysis: fake bank 'security control' that uploads SMS.

.field public static final C2_UPLOAD:Ljava/lang/String; = "https://icbc-anquan.top/api/upload"
.field public static final C2_IP:Ljava/lang/String; = "45.137.21.9"
.field public static final TITLE:Ljava/lang/String; = "中国工商银行 安全控件升级"
.field public static final HINT_CARD:Ljava/lang/String; = "请输入银行卡号和交易密码完成安全认证"

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/app/Activity;-><init>()V
    return-void
.end method

.method public static uploadTargets()[Ljava/lang/String;
    .registers 4
    const/16 v0, 0x2
    new-array v0, v0, [Ljava/lang/String;
    const/16 v1, 0x0
    const-string v2, "https://icbc-anquan.top/api/upload"
    aput-object v2, v0, v1
    const/16 v1, 0x1
    const-string v2, "http://45.137.21.9:8080/api/sms/report"
    aput-object v2, v0, v1
    return-object v0
.end method
